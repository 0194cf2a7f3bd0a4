"""Recognise model servers in containers and read their arguments the way they do.

vLLM: `vllm serve MODEL ...`, `python -m vllm.entrypoints.openai.api_server ...`, the
vllm-openai image's entrypoint with bare engine args, `stackgen-runtime [...] -- ARGS`,
and all of these inside `sh -c "..."` scripts. Options are read like argparse: `--opt v`,
`--opt=v`, `--opt_name v` (vLLM accepts underscores), short aliases (`-tp 8`), store-true
flags and `--no-*` negations. Kubelet's `$(VAR)` expansion is applied from literal env.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from stackgen.catalog.servers import load_servers, server

SHELLS = {"sh", "bash", "ash", "dash", "zsh"}
SHELL_OPS = {"&&", "||", ";", "|", "&", "(", ")"}
VLLM_SHORT = {"-tp": "tensor-parallel-size", "-pp": "pipeline-parallel-size",
              "-dp": "data-parallel-size", "-q": "quantization", "-O": "compilation-config",
              "-dpl": "data-parallel-size-local", "-ep": "enable-expert-parallel"}
VLLM_FLAGS = {  # store-true options: they take no value
    "enforce-eager", "trust-remote-code", "enable-prefix-caching", "enable-chunked-prefill",
    "disable-log-requests", "disable-log-stats", "enable-log-requests", "enable-auto-tool-choice",
    "enable-lora", "disable-custom-all-reduce", "enable-expert-parallel", "headless",
    "disable-frontend-multiprocessing", "enable-reasoning", "enable-sleep-mode",
    "skip-tokenizer-init", "disable-fastapi-docs", "enable-prompt-tokens-details",
    "enable-server-load-tracking", "disable-uvicorn-access-log", "enable-request-id-headers",
    "enable-log-outputs", "enable-force-include-usage", "enable-tokenizer-info-endpoint",
    "disable-sliding-window", "enable-lora-bias", "enable-eplb", "enable-dbo",
    "multi-step-stream-outputs", "use-v2-block-manager", "worker-use-ray", "enable-chunked-prefill",
    "help", "version",
}


@dataclass
class ServerInfo:
    kind: str  # "vllm" | "triton" | "kserve-huggingface"
    options: dict[str, Any] = field(default_factory=dict)  # normalised name -> value (True for flags)
    model: str | None = None
    port: int | None = None  # the HTTP port it listens on, when known
    runtime_options: dict[str, Any] | None = None  # stackgen-runtime's own flags (--config ...)

    def int_option(self, name: str, default: int = 1) -> int | None:
        """The integer value of an option; `default` if absent, None if not a number."""
        if name not in self.options:
            return default
        try:
            return int(str(self.options[name]))
        except ValueError:
            return None

    def world_size(self) -> int | None:
        """GPUs one engine replica uses: TP x PP (None when an argument is not a number)."""
        tp = self.int_option("tensor-parallel-size")
        pp = self.int_option("pipeline-parallel-size")
        return None if tp is None or pp is None else tp * pp


def image_repo(image: Any) -> str:
    """`registry/ns/name` without tag or digest, lower-case."""
    text = str(image or "").split("@")[0].lower()
    head, _, tail = text.rpartition("/")
    return (head + "/" if head else "") + tail.split(":")[0]


def argv_of(container: dict) -> list[str]:
    argv = []
    for key in ("command", "args"):
        value = container.get(key)
        if isinstance(value, list):
            argv.extend(str(v) for v in value if v is not None)
        elif value is not None:
            argv.append(str(value))
    env_list = container.get("env") if isinstance(container.get("env"), list) else []
    env = {str(e.get("name")): str(e.get("value")) for e in env_list
           if isinstance(e, dict) and e.get("value") is not None}
    return [_expand(a, env) for a in argv]


def _expand(arg: str, env: dict[str, str]) -> str:
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), arg)


def segments(argv: list[str]) -> list[list[str]]:
    """Command lines in argv: itself, or the commands of an `sh -c SCRIPT`."""
    for i, word in enumerate(argv[:-1]):
        if os.path.basename(word) in SHELLS and "-c" in argv[i + 1:i + 3]:
            script = argv[argv.index("-c", i) + 1] if argv.index("-c", i) + 1 < len(argv) else ""
            return _split_script(script)
    return [argv]


def _split_script(script: str) -> list[list[str]]:
    lexer = shlex.shlex(script.replace("\\\n", " "), posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        tokens = script.split()
    out, current = [], []
    for tok in tokens:
        if tok in SHELL_OPS or set(tok) <= set(";&|()"):
            out.append(current)
            current = []
        else:
            current.append(tok)
    out.append(current)
    return [[t for t in seg if t != "exec"] for seg in out if seg]


def detect_server(container: dict, runtime: str | None = None) -> ServerInfo | None:
    """The model server a container runs, by the `detect` table of profiles/servers/:
    a command inside its argv (or its `sh -c` script) first, then its image. `runtime`
    names the server when KServe runs the container from a ServingRuntime (args only)."""
    argv = argv_of(container)
    if runtime is not None and not container.get("command"):
        return _from_runtime(server(runtime), argv)
    for seg in segments(argv):
        info = _from_command(seg)
        if info:
            return info
    name = image_repo(container.get("image")).rpartition("/")[2]
    for profile, rule in _rules("image"):
        if rule.image in name and (not rule.bare_args or not argv or argv[0].startswith("-")):
            return _parse(profile, rule.parser, argv, rule.default_port)
    return None


@cache
def _rules(matcher: str) -> list:
    """(server profile, detect rule) pairs that use `matcher`, in catalog order."""
    return [(p, r) for p in load_servers().values() for r in p.detect if getattr(r, matcher)]


def _from_runtime(profile, argv: list[str]) -> ServerInfo:
    port = profile.kserve.port if profile.kserve else profile.http_port
    parsers = [r.parser for r in profile.detect]
    if "--" in argv and "stackgen-runtime" in parsers:
        return _parse(profile, "stackgen-runtime", argv, port)
    return _parse(profile, "vllm" if profile.engine_args == "vllm" else parsers[0], argv, port)


def _from_command(seg: list[str]) -> ServerInfo | None:
    for i, word in enumerate(seg):
        base = os.path.basename(word)
        for profile, rule in _rules("executable"):
            if base == rule.executable:
                return _parse(profile, rule.parser, seg[i + 1:], rule.default_port)
        for profile, rule in _rules("command"):
            size = len(rule.command)
            if base == rule.command[0] and tuple(seg[i + 1:i + size]) == tuple(rule.command[1:]):
                return _parse(profile, rule.parser, seg[i + size:], rule.default_port)
        if word == "-m" and i + 1 < len(seg):
            for profile, rule in _rules("module"):
                if seg[i + 1] == rule.module or seg[i + 1].startswith(rule.module + "."):
                    return _parse(profile, rule.parser, seg[i + 2:], rule.default_port)
    return None


def _parse(profile, parser: str, args: list[str], port: int | None) -> ServerInfo:
    port = port or profile.http_port
    if parser == "triton":
        return _triton(profile.id, args, port)
    if parser == "stackgen-runtime":
        return _stackgen_runtime(profile.id, args, port)
    return _vllm_like(profile.id, args, port, positional_model=parser == "vllm-serve")


def parse_options(args: list[str], positional_model: bool = False) -> tuple[dict[str, Any], str | None]:
    """argparse-like reading of `args` into {normalised-name: value}."""
    options: dict[str, Any] = {}
    model = None
    i = 0
    while i < len(args):
        word = args[i]
        if word.startswith("-") and not _is_number(word) and word != "-":
            name, eq, value = word.partition("=")
            name = VLLM_SHORT.get(name) or name.lstrip("-").replace("_", "-")
            if eq:
                options[name] = value
            elif name in VLLM_FLAGS or name.startswith("no-") or i + 1 >= len(args) \
                    or (args[i + 1].startswith("-") and not _is_number(args[i + 1])):
                options[name] = True
            else:
                options[name] = args[i + 1]
                i += 1
        elif positional_model and model is None:
            model = word
        i += 1
    return options, model


def _is_number(word: str) -> bool:
    return re.fullmatch(r"-?\d+(\.\d+)?", word) is not None


def _vllm_like(kind: str, args: list[str], default_port: int, positional_model: bool = False) -> ServerInfo:
    options, model = parse_options(args, positional_model)
    model = model or _str(options.get("model")) or _str(options.get("model-id"))
    port = options.get("port") or options.get("http-port")
    return ServerInfo(kind, options, model, _int(port, default_port))


def _stackgen_runtime(kind: str, args: list[str], default_port: int) -> ServerInfo:
    own, engine = (args[:args.index("--")], args[args.index("--") + 1:]) if "--" in args else (args, [])
    own_opts, _ = parse_options(own)
    options, model = parse_options(engine, positional_model=False)
    options.update({k: v for k, v in own_opts.items() if k not in options})
    model = _str(own_opts.get("model")) or _str(options.get("model"))
    return ServerInfo(kind, options, model, _int(own_opts.get("port"), default_port),
                      runtime_options=own_opts)


def _triton(kind: str, args: list[str], default_port: int) -> ServerInfo:
    options, _ = parse_options(args)
    return ServerInfo(kind, options, _str(options.get("model-repository")),
                      _int(options.get("http-port"), default_port))


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any, default: int) -> int | None:
    if value is None or value is True:
        return default
    try:
        return int(str(value))
    except ValueError:
        return None
