"""Start-up time and request throughput: stackgen-runtime vs the bare vLLM server.

    .venv/bin/python benchmarks/runtime_startup.py [--rounds N] [--requests N]
        [--concurrency N] [--max-tokens N]

Both servers get the same tiny Llama (tests/runtime/tinymodels.py) and the same vLLM
arguments: the bare run uses exactly the argv and environment that
`stackgen-runtime --dry-run` prints for the settings. Start-up is measured from spawning
the process to the first 200 from /health; throughput from a fixed batch of
/v1/completions requests (ignore_eos, so every request makes max-tokens tokens). Rounds
alternate the order (runtime, bare, bare, runtime, ...) to spread drift. Needs
./.venv-runtime (make runtime-venv). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import calendar
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "runtime"))

from runtime_harness import (  # noqa: E402
    RUNTIME_BIN,
    base_settings,
    free_port,
    http,
    runtime_available,
    runtime_env,
    start_server,
    tiny_models_dir,
    write_settings,
)

SERVED = "tiny-bench"


def bare_argv(settings_file: Path) -> tuple[list[str], dict[str, str]]:
    out = subprocess.run([str(RUNTIME_BIN), "--dry-run", "--config", str(settings_file)],
                         capture_output=True, text=True, env=runtime_env(), check=True)
    command = json.loads(out.stdout)
    return command["argv"], command["env"]


def throughput(base: str, requests: int, concurrency: int, max_tokens: int) -> dict:
    body = {"model": SERVED, "prompt": "The quick brown fox", "max_tokens": max_tokens,
            "ignore_eos": True, "temperature": 0}

    def one(_: int) -> int:
        status, reply = http("POST", base + "/v1/completions", body)
        assert status == 200, reply
        return reply["usage"]["completion_tokens"]

    one(0)  # warm-up
    start = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        tokens = sum(pool.map(one, range(requests)))
    elapsed = time.monotonic() - start
    return {"requests_per_s": requests / elapsed, "tokens_per_s": tokens / elapsed}


def one_round(kind: str, work: Path, model: Path, args: argparse.Namespace) -> dict:
    port = free_port()
    settings = write_settings(work / f"{kind}-{port}.json",
                              base_settings(model, SERVED, port, maxModelLen=1024))
    argv, extra_env = bare_argv(settings) if kind == "bare" else (None, None)
    spawned_at, started = time.time(), time.monotonic()
    server = start_server(settings, work / f"{kind}-{port}.log", SERVED, port, argv=argv,
                          extra_env=extra_env)
    ready = time.monotonic() - started
    figures = throughput(server.base, args.requests, args.concurrency, args.max_tokens)
    code = server.stop()
    row = {"kind": kind, "startup_s": ready, **figures, "exit_code": code}
    if kind == "runtime":
        row["overhead_s"] = entrypoint_overhead(server.log_text(), spawned_at)
    return row


def entrypoint_overhead(log_text: str, spawned_at: float) -> float:
    """Seconds from spawning stackgen-runtime to its `engine.start` log line: everything
    the entrypoint adds before vLLM itself starts (interpreter, imports, checks)."""
    for line in log_text.splitlines():
        if line.startswith('{"ts"') and '"event": "engine.start"' in line:
            stamp = json.loads(line)["ts"]
            when = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
            return when + int(stamp[20:23]) / 1000 - spawned_at
    return float("nan")


def summarise(results: list[dict]) -> dict:
    summary = {}
    for kind in ("runtime", "bare"):
        rows = [r for r in results if r["kind"] == kind]
        summary[kind] = {key: statistics.median(r[key] for r in rows)
                         for key in ("startup_s", "requests_per_s", "tokens_per_s")}
    summary["runtime_vs_bare_pct"] = {
        key: 100.0 * (summary["runtime"][key] / summary["bare"][key] - 1.0)
        for key in ("startup_s", "requests_per_s", "tokens_per_s")
    }
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="starts per server kind")
    parser.add_argument("--requests", type=int, default=256)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=32)
    args = parser.parse_args()
    if not runtime_available():
        print("runtime_startup: .venv-runtime is absent; run `make runtime-venv`", file=sys.stderr)
        return 2
    model = tiny_models_dir() / "tiny-llama"
    order = [k for i in range(args.rounds) for k in (("runtime", "bare") if i % 2 == 0 else ("bare", "runtime"))]
    results = []
    with tempfile.TemporaryDirectory(prefix="stackgen-bench-") as tmp:
        for kind in order:
            row = one_round(kind, Path(tmp), model, args)
            results.append(row)
            print(f"{row['kind']:8s} startup {row['startup_s']:7.2f} s   "
                  f"{row['requests_per_s']:7.2f} req/s   {row['tokens_per_s']:8.1f} tok/s   "
                  f"exit {row['exit_code']}", flush=True)
    summary = summarise(results)
    pct = summary["runtime_vs_bare_pct"]
    overheads = [r["overhead_s"] for r in results if "overhead_s" in r]
    print(f"stackgen-runtime's own start-up before vLLM starts: median "
          f"{statistics.median(overheads):.3f} s")
    print(f"median runtime vs bare: startup {pct['startup_s']:+.1f}%  "
          f"req/s {pct['requests_per_s']:+.1f}%  tok/s {pct['tokens_per_s']:+.1f}%  "
          f"({args.rounds} round(s), {args.requests} requests x {args.max_tokens} tokens, "
          f"concurrency {args.concurrency})")
    print(json.dumps({"results": results, "summary": summary}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
