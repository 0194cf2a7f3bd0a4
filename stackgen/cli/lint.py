"""`stackgen lint` (placeholder until the lint issue lands)."""

from __future__ import annotations

from pathlib import Path

import typer


def lint(paths: list[Path] = typer.Argument(..., help="Files or folders of manifests.")) -> None:
    """Lint model-serving manifests."""
    from stackgen.errors import InputError

    raise InputError("`stackgen lint` is not available in this build yet")
