"""`stackgen plan`: apply the layer framework to a stack and explain every decision."""

from __future__ import annotations

from pathlib import Path

import typer


def plan(
    file: Path = typer.Option(Path("stackgen.yaml"), "-f", "--file", help="The stack file."),
    output: str = typer.Option("text", "--output", "-O", help="text or json."),
) -> None:
    """Apply the layer framework to the stack and explain every decision."""
    import json

    from stackgen.decide import decide
    from stackgen.errors import InputError
    from stackgen.spec import load_stack

    if output not in ("text", "json"):
        raise InputError(f"--output {output!r} is not supported", field="--output",
                         fix="use --output text or --output json")
    stack = load_stack(file)
    result = decide(stack, file.resolve().parent)
    if output == "json":
        typer.echo(json.dumps(result.to_json(), indent=2))
        return
    from stackgen.cli.render_plan import print_plan

    print_plan(result)
