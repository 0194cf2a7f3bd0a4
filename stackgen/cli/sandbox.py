"""`stackgen sandbox up|down` (placeholder until the control plane lands)."""

from __future__ import annotations

import typer

app = typer.Typer(help="A local control plane with kwok GPU nodes.", no_args_is_help=True)


@app.command("up")
def up() -> None:
    """Start a local control plane mirroring the stack's node pools."""
    from stackgen.errors import InputError

    raise InputError("`stackgen sandbox` is not available in this build yet")


@app.command("down")
def down() -> None:
    """Stop the local control plane."""
    from stackgen.errors import InputError

    raise InputError("`stackgen sandbox` is not available in this build yet")
