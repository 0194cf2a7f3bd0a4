"""`stackgen init`: describe the workload (questionnaire or answers) and write stackgen.yaml."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from stackgen.cli.options import output_file

HEADER = ("stackgen stack file: describes models, traffic and GPU node pools.\n"
          "Edit it freely; `stackgen init --force` updates it and keeps your comments.\n"
          "Next: stackgen plan && stackgen render --output-dir deploy/")


def init(
    output: Path = output_file("init", Path("stackgen.yaml"), help="Where to write the stack file.",
                               aliases=("-o", "--output")),
    non_interactive: bool = typer.Option(False, "--non-interactive", help="Never prompt (CI): every answer comes from --answers, --set or a default."),
    answers: Path | None = typer.Option(None, "--answers", help="YAML file of answers (see examples/*/answers.yaml)."),
    sets: list[str] = typer.Option([], "--set", help="An answer, KEY=VALUE; e.g. --set models[0].source=hf://org/m. Repeatable; wins over --answers."),
    force: bool = typer.Option(False, "--force", help="Update an existing stack file (its comments are kept)."),
    discover: bool | None = typer.Option(None, "--discover/--no-discover", help="Offer GPU node pools found in the current kube-context as defaults (default: on when interactive)."),
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", help="Kubeconfig for --discover."),
    context: str | None = typer.Option(None, "--context", help="Kube-context for --discover."),
) -> None:
    """Describe the workload and write stackgen.yaml (interactive, or --non-interactive for CI)."""
    from stackgen.cli import answers as ans
    from stackgen.cli.questions import pool_questions
    from stackgen.errors import InputError

    interactive = not non_interactive
    if interactive and not sys.stdin.isatty():
        raise InputError("stdin is not a terminal, so init cannot ask questions",
                         fix="pass --non-interactive with --answers FILE and/or --set KEY=VALUE")
    existing = _existing(output, force)
    layers = [ans.apply_sets({}, sets), _answers_file(answers) if answers else {},
              ans.from_stack(existing) if existing is not None else {}]
    if discover or (discover is None and interactive and existing is None):
        layers.append(_discovered(kubeconfig, context))
    merged = ans.merge(*layers)
    pool_qs = pool_questions(_gpu_ids())
    if interactive:
        from stackgen.cli.prompts import ask_all

        resolved = ask_all(merged, pool_qs)
    else:
        resolved = ans.resolve_all(merged, pool_qs)
    _write(output, ans.to_stack(resolved), existing)


def _gpu_ids() -> list[str]:
    from stackgen.catalog import gpu_ids

    return gpu_ids()


def _existing(output: Path, force: bool) -> Any:
    from stackgen.errors import InputError
    from stackgen.yamlio import YamlError, read_roundtrip

    if not output.exists():
        return None
    if not force:
        raise InputError("the file already exists", file=str(output),
                         fix="pass --force to update it (comments are kept), or --output-file another path")
    try:
        data = read_roundtrip(output)
    except YamlError as err:
        raise err.input_error("fix the YAML, or delete the file to start over", file=str(output)) from None
    return data if isinstance(data, dict) else None


def _answers_file(path: Path) -> dict:
    from stackgen.errors import InputError
    from stackgen.yamlio import YamlError, read_roundtrip

    if not path.is_file():
        raise InputError(f"answers file not found: {path}", file=str(path), field="--answers",
                         fix="pass the path of a YAML answers file")
    try:
        data = read_roundtrip(path)
    except YamlError as err:
        raise err.input_error("fix the YAML syntax", field="--answers", file=str(path)) from None
    if not isinstance(data, dict):
        raise InputError("the answers file must be a YAML mapping", file=str(path), line=1,
                         fix="see examples/hybrid/answers.yaml")
    for group in ("models", "nodePools"):
        value = data.get(group)
        if value is not None and not (isinstance(value, list) and all(isinstance(i, dict) for i in value)):
            raise InputError(f"{group} must be a list of mappings", file=str(path), field=group,
                             fix=f"write {group}: as a list of '- name: ...' entries")
    return _plain(data)


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _discovered(kubeconfig: str | None, context: str | None) -> dict:
    from stackgen.cluster.discover import discover_pools

    provider, pools = discover_pools(kubeconfig, context)
    return {"provider": provider, "nodePools": pools} if pools else {}


def _write(output: Path, data: dict, existing: Any) -> None:
    from stackgen.cli.render_plan import print_plan_summary
    from stackgen.fsutil import atomic_write_text
    from stackgen.spec import parse_stack
    from stackgen.yamlio import dump_roundtrip, fresh_document, update_in_place

    document = update_in_place(existing, data) if existing is not None else fresh_document(data, HEADER)
    stack = parse_stack(document, str(output))
    atomic_write_text(output, dump_roundtrip(document))
    typer.echo(f"wrote {output}", err=True)
    print_plan_summary(stack, output.resolve().parent)
