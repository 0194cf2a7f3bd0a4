"""`stackgen plan`: apply the layer framework to a stack and explain every decision."""

from __future__ import annotations

from pathlib import Path

import typer

from stackgen.cli.options import output_format


def plan(
    file: Path = typer.Option(Path("stackgen.yaml"), "-f", "--file", help="The stack file."),
    output: str = output_format("plan", aliases=("-O",)),
) -> None:
    """Apply the layer framework to the stack and explain every decision."""
    from stackgen.catalog import stack_facts
    from stackgen.cli.jsonout import json_output
    from stackgen.decide import decide
    from stackgen.spec import load_stack

    with json_output(output) as out:   # -o json: one JSON document on every exit
        stack = load_stack(file)
        result = decide(stack, stack_facts(stack, file.resolve().parent))
        if out.enabled:
            out.echo(result.to_json())
            return
    from stackgen.cli.render_plan import print_plan

    print_plan(result)
