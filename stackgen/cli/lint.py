"""`stackgen lint PATH...`: the CI gate for model-serving manifests."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from stackgen.cli.options import one_format, output_file, output_format

FORMATS = ("text", "json", "sarif", "junit", "github")
LEVELS = ("error", "warning", "info")


def _file_hint(value: str) -> str:
    """lint's -o used to name the report file; -o is the format now, as in kubectl."""
    if "." in value or "/" in value:
        return f"; -o no longer names the report file: write it with --output-file {value}"
    return ""


def lint(
    paths: list[Path] = typer.Argument(..., help="Manifest files or folders (searched recursively)."),
    fmt: Optional[str] = output_format("lint", FORMATS, default=None, hint=_file_hint),
    format_: Optional[str] = output_format(
        "lint", FORMATS, names=("--format",), default=None,
        help="The same as -o/--output (the spelling stackgen lint had first)."),
    kubernetes_version: Optional[str] = typer.Option(
        None, "--kubernetes-version", help="Target Kubernetes version X.Y (default: newest known)."),
    crds: list[Path] = typer.Option([], "--crds", help="CRD file or folder (repeatable)."),
    config: Optional[Path] = typer.Option(
        None, "--config", help="Lint config (default: ./.stackgen-lint.yaml if present)."),
    fail_on: Optional[str] = typer.Option(
        None, "--fail-on", help="Exit 1 on findings at or above: error | warning | info (default error)."),
    schema_only: bool = typer.Option(False, "--schema-only", help="Only YAML and schema checks."),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Worker processes (0: automatic)."),
    output: Optional[Path] = output_file("lint", None, help="Write the report to this file instead of stdout."),
) -> None:
    """Lint model-serving manifests (schemas, GPUs, probes, vLLM/Triton/KServe pitfalls)."""
    import os
    import sys

    from stackgen.cli.jsonout import json_output
    from stackgen.errors import InputError
    from stackgen.lint.config import find_config
    from stackgen.lint.engine import Options, lint_paths
    from stackgen.lint.formats import render

    # --format json on stdout: one JSON document on every exit, the error one on bad input
    with json_output((fmt or format_) if output is None else None) as out:
        fmt = one_format(("-o/--output", fmt), ("--format", format_), default=FORMATS[0])
        if fail_on is not None and fail_on not in LEVELS:
            raise InputError(f"unknown level {fail_on!r}", field="--fail-on", fix=f"use one of {', '.join(LEVELS)}")
        cwd = Path.cwd()
        cfg = find_config(config, cwd)
        options = Options(kubernetes_version=kubernetes_version or "",
                          crd_paths=tuple(crds) + tuple(cfg.crds), schema_only=schema_only, config=cfg,
                          debug=bool(os.environ.get("STACKGEN_DEBUG")))
        report = lint_paths(list(paths), options, base=cwd, jobs=jobs)
        text = render(report, fmt, color=fmt == "text" and output is None and sys.stdout.isatty())
        if output is not None:
            _write(output, text)
        else:
            sys.stdout.write(text)
            out.printed = True
        if report.fails(fail_on or cfg.fail_on or "error"):
            raise typer.Exit(1)


def _write(path: Path, text: str) -> None:
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)
