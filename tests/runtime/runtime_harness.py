"""Helpers shared by the runtime tests and benchmarks/runtime_startup.py.

The end-to-end tests start `stackgen-runtime` from ./.venv-runtime (vLLM's CPU build,
made by `make runtime-venv`) and talk to it over HTTP with urllib; pytest itself may run
in the main venv.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUNTIME_VENV = Path(os.environ.get("STACKGEN_RUNTIME_VENV", REPO / ".venv-runtime"))
RUNTIME_PY = RUNTIME_VENV / "bin" / "python"
RUNTIME_BIN = RUNTIME_VENV / "bin" / "stackgen-runtime"
TINYMODELS = Path(__file__).with_name("tinymodels.py")
READY_TIMEOUT_S = float(os.environ.get("STACKGEN_RUNTIME_READY_TIMEOUT", "300"))


class NotReady(Exception):
    """The server exited or timed out before /health answered 200."""


def runtime_available() -> bool:
    return RUNTIME_PY.exists() and RUNTIME_BIN.exists()


def cache_dir() -> Path:
    return Path(os.environ.get("STACKGEN_CACHE", Path.home() / ".cache" / "stackgen"))


def tiny_models_dir() -> Path:
    """Generates the tiny models once per version of tinymodels.py (atomic rename)."""
    digest = hashlib.sha256(TINYMODELS.read_bytes()).hexdigest()[:12]
    final = cache_dir() / "tinymodels" / digest
    if (final / "tiny-llama").exists() and (final / "tiny-bert").exists():
        return final
    work = final.with_name(f"{digest}.tmp-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    subprocess.run([str(RUNTIME_PY), str(TINYMODELS), str(work)], check=True,
                   stdout=subprocess.DEVNULL, timeout=600)
    try:
        work.rename(final)
    except OSError:  # another session won the race
        shutil.rmtree(work, ignore_errors=True)
    return final


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method: str, url: str, body: dict | None = None, timeout: float = 120):
    """Returns (status, parsed JSON or text); never raises for HTTP error statuses."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read().decode()
    try:
        return status, json.loads(raw)
    except json.JSONDecodeError:
        return status, raw


@dataclass
class Server:
    proc: subprocess.Popen
    base: str
    log: Path
    served_name: str

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def log_tail(self, n: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-n:])

    def stop(self, timeout: float = 90) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode


def runtime_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"HF_HUB_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1",
                "PYTHONUNBUFFERED": "1", "VLLM_LOGGING_LEVEL": "INFO"})
    env.update(extra)
    return env


def write_settings(path: Path, document: dict) -> Path:
    path.write_text(json.dumps(document, indent=2))
    return path


def start_server(settings_file: Path, log: Path, served_name: str, port: int,
                 argv: list[str] | None = None, extra_env: dict[str, str] | None = None) -> Server:
    """Starts stackgen-runtime (or `argv`, e.g. the bare vLLM server) and waits for /health."""
    out = log.open("wb")
    argv = argv or [str(RUNTIME_BIN), "--config", str(settings_file)]
    proc = subprocess.Popen(argv,
                            stdout=out, stderr=subprocess.STDOUT,
                            env=runtime_env(**(extra_env or {})),
                            start_new_session=True)
    server = Server(proc, f"http://127.0.0.1:{port}", log, served_name)
    wait_ready(server)
    return server


def wait_ready(server: Server) -> float:
    start = time.monotonic()
    while time.monotonic() - start < READY_TIMEOUT_S:
        if server.proc.poll() is not None:
            raise NotReady(f"stackgen-runtime exited with {server.proc.returncode} before "
                           f"/health was ready:\n{server.log_tail()}")
        try:
            status, _ = http("GET", server.base + "/health", timeout=2)
            if status == 200:
                return time.monotonic() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(1)
    server.stop(timeout=10)
    raise NotReady(f"/health not ready after {READY_TIMEOUT_S:.0f}s:\n{server.log_tail()}")


def base_settings(model: Path, name: str, port: int, **overrides) -> dict:
    document = {
        "apiVersion": "stackgen.dev/v1alpha1",
        "kind": "EngineSettings",
        "model": str(model),
        "servedModelName": name,
        "host": "127.0.0.1",
        "port": port,
        "maxModelLen": 512,
        "dtype": "float32",
        "device": "auto",
        "shutdownGracePeriodSeconds": 30,
        "cpuKvCacheSpaceGiB": 1,
    }
    document.update(overrides)
    return document


def cli_command() -> list[str]:
    """The runtime CLI for fast tests that never start vLLM: the runtime venv when present,
    else this interpreter (the main venv has pydantic and PyYAML)."""
    python = str(RUNTIME_PY) if runtime_available() else sys.executable
    return [python, "-m", "stackgen.runtime.main"]


def run_cli(args: list[str], timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([*cli_command(), *args], capture_output=True, text=True,
                          timeout=timeout, env=runtime_env(**env), cwd=REPO)


RENDERED_STACK = """\
apiVersion: stackgen.dev/v1alpha1
kind: Stack
metadata: {{name: e2e, namespace: e2e}}
spec:
  cluster:
    provider: generic
    nodePools:
      - {{name: l4, gpu: l4-24gb, nodes: 1, gpusPerNode: 1}}
  models:
    - name: {name}
      source: pvc://{claim}/{folder}
      kind: llm
      modelConfig: {config}
      maxModelLen: 4096
"""

#: What differs between the pod the manifests describe and this CPU-only test machine.
CPU_OVERRIDES = ("host", "port", "device", "dtype", "cpuKvCacheSpaceGiB", "modelCacheDir")


def rendered_settings(model: Path, name: str, port: int, work: Path) -> dict:
    """The engine settings `stackgen render` writes into the model's ConfigMap for a stack
    serving `model` from a PVC, with only the CPU-machine keys replaced."""
    import subprocess
    import sys

    import yaml

    stack = work / "stackgen.yaml"
    import shutil

    shutil.copyfile(model / "config.json", work / "model-config.json")  # modelConfig: inside
    stack.write_text(RENDERED_STACK.format(name=name, claim=model.parent.name, folder=model.name,
                                           config="model-config.json"))
    out = work / "deploy"
    subprocess.run([sys.executable, "-m", "stackgen.cli.main", "render", "-q", "-f", str(stack),
                    "-o", str(out)], check=True, capture_output=True)
    configmap = yaml.safe_load((out / "models" / name / "configmap.yaml").read_text())
    document = yaml.safe_load(configmap["data"]["engine.yaml"])
    cpu = base_settings(model, name, port)
    document.update({k: cpu[k] for k in CPU_OVERRIDES if k in cpu})
    document["modelCacheDir"] = str(work / "cache")
    return document
