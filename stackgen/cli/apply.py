"""`stackgen apply` / `stackgen delete` (placeholders until the apply issue lands)."""

from __future__ import annotations

from pathlib import Path

import typer


def apply(directory: Path = typer.Argument(..., help="A rendered folder.")) -> None:
    """Server-side apply a rendered folder to a cluster."""
    from stackgen.errors import InputError

    raise InputError("`stackgen apply` is not available in this build yet")


def delete(directory: Path = typer.Argument(..., help="A rendered folder.")) -> None:
    """Delete what stackgen applied from a rendered folder."""
    from stackgen.errors import InputError

    raise InputError("`stackgen delete` is not available in this build yet")
