"""`stackgen render`: write the stack's manifests into a kustomize folder."""

from __future__ import annotations

from pathlib import Path

import typer

from stackgen.cli.options import output_dir


def render(
    file: Path = typer.Option(Path("stackgen.yaml"), "-f", "--file", help="The stack file."),
    output: Path = output_dir("render", Path("deploy"), help="The folder to render into.",
                              aliases=("-o", "--output")),
    force: bool = typer.Option(False, "--force", help="Overwrite files edited since the last render."),
    check: bool = typer.Option(False, "--check", help="Render in memory; exit 1 with a diff when the folder is out of date (CI drift gate)."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Do not print the diff."),
) -> None:
    """Render manifests for the stack into a folder (kustomization.yaml, README.md, one file per resource)."""
    from stackgen.catalog import stack_facts
    from stackgen.decide import decide
    from stackgen.render import render_files
    from stackgen.render import writer
    from stackgen.spec import load_stack

    stack = load_stack(file)
    plan = decide(stack, stack_facts(stack, file.resolve().parent))
    files = render_files(stack, plan)
    if check:
        writer.check(output, files)
        typer.echo(f"{output} is up to date ({len(files)} files)", err=True)
        return
    changes = writer.write(output, files, force=force)
    if changes.diff and not quiet and not changes.first:
        typer.echo(changes.diff, nl=False)
    typer.echo(f"rendered {len(files)} files into {output}: {len(changes.added)} added, "
               f"{len(changes.changed)} changed, {len(changes.removed)} removed", err=True)
