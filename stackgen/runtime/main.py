"""`stackgen-runtime`: the entrypoint of stackgen's reference runtime image.

    stackgen-runtime [--config FILE] [--model URI_OR_PATH] [--served-model-name NAME]
                     [--host H] [--port N] [--dry-run] [-- ENGINE_ARGS...]

Reads the engine settings `stackgen render` wrote (FILE, else $STACKGEN_RUNTIME_CONFIG,
else the YAML/JSON text in $STACKGEN_ENGINE_SETTINGS), applies the flags on top, checks
the GPUs, resolves the model into a local folder and runs vLLM's OpenAI server. Arguments
after `--` are passed to vLLM unchanged (after the settings' extraArgs).
Exit codes: 0 clean (including a SIGTERM drain), 1 the engine failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from typing import Any

from stackgen.runtime.defaults import fill_defaults
from stackgen.runtime.devices import check_accelerators
from stackgen.runtime.engine import build_command
from stackgen.runtime.errors import RuntimeInputError
from stackgen.runtime.logs import log
from stackgen.runtime.settings import EngineSettings, load_settings, parse_text, validate_settings
from stackgen.runtime.source import resolve_model
from stackgen.runtime.supervise import run_engine

CONFIG_ENV = "STACKGEN_RUNTIME_CONFIG"
INLINE_ENV = "STACKGEN_ENGINE_SETTINGS"
FLAG_FIELDS = {"model": "model", "served_model_name": "servedModelName", "host": "host",
               "port": "port"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stackgen-runtime",
        description="Run vLLM's OpenAI-compatible server from stackgen engine settings.",
        epilog="Arguments after `--` go to vLLM unchanged. Schema: docs/runtime.md.",
    )
    parser.add_argument("--config", metavar="FILE",
                        help=f"engine settings (YAML or JSON); default ${CONFIG_ENV}")
    parser.add_argument("--model", metavar="URI_OR_PATH",
                        help="hf://org/name, pvc://claim/path, s3://, gs:// or a local folder")
    parser.add_argument("--served-model-name", metavar="NAME")
    parser.add_argument("--host", metavar="H")
    parser.add_argument("--port", metavar="N", type=int)
    parser.add_argument("--dry-run", action="store_true",
                        help="print the engine command as JSON and exit without starting it")
    return parser


def split_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    if "--" in argv:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1 :]
    return argv, []


def gather(args: argparse.Namespace, engine_extra: list[str]) -> EngineSettings:
    """Settings document (file or env), then flags on top, then validation."""
    config = args.config or os.environ.get(CONFIG_ENV)
    data: dict[str, Any]
    if config:
        data, origin = load_settings(config), config
    elif os.environ.get(INLINE_ENV):
        origin = f"${INLINE_ENV}"
        data = parse_text(os.environ[INLINE_ENV], origin)
        if not isinstance(data, dict):
            validate_settings(data, origin)
    else:
        data, origin = {}, "command line"
    for attr, key in FLAG_FIELDS.items():
        value = getattr(args, attr)
        if value is not None:
            data[key] = value
    if engine_extra:
        data["extraArgs"] = [*data.get("extraArgs", []), *engine_extra]
    if "model" not in data:
        raise RuntimeInputError(
            f"{origin}: no model given. Pass --config FILE with a `model` field, or --model "
            "URI_OR_PATH (hf://org/name, pvc://claim/path, s3://, gs:// or a folder).",
            event="settings.invalid", file=origin, fields=["model"],
        )
    settings = validate_settings(data, origin)
    log("settings.loaded", source=origin, settings=settings.to_document())
    return settings


def prepare(args: argparse.Namespace, engine_extra: list[str]):
    settings = gather(args, engine_extra)
    accel = check_accelerators(settings.device, settings.tensor_parallel_size,
                               settings.pipeline_parallel_size, nodes=settings.nodes)
    model = resolve_model(settings.model, cache_dir=settings.model_cache_dir,
                          pvc_root=os.environ.get("STACKGEN_PVC_ROOT", settings.pvc_mount_root))
    settings = fill_defaults(settings, model.path, accel.device)
    return settings, build_command(settings, model, accel)


def _exit_before_start(signum: int, _frame: object) -> None:
    log("shutdown.before-start", signal=signal.Signals(signum).name)
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    ours, engine_extra = split_argv(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(ours)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_before_start)
    try:
        settings, cmd = prepare(args, engine_extra)
    except RuntimeInputError as exc:
        log(exc.event, level="error", message=exc.message, **exc.fields)
        print(f"stackgen-runtime: error: {exc.message}", file=sys.stderr, flush=True)
        return exc.exit_code
    if args.dry_run:
        print(json.dumps({"argv": cmd.argv, "env": cmd.env, "servedModelName": cmd.served_name}))
        return 0
    return run_engine(cmd, settings.shutdown_grace_period_seconds)


if __name__ == "__main__":
    raise SystemExit(main())
