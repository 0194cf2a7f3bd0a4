"""`stackgen render` (placeholder until the render issue lands)."""

from __future__ import annotations

import typer


def render(
    file: str = typer.Option("stackgen.yaml", "-f", "--file", help="The stack file."),
) -> None:
    """Render manifests for the stack into a folder."""
    from stackgen.errors import InputError

    raise InputError("`stackgen render` is not available in this build yet")
