"""`stackgen plan` (being written)."""

from __future__ import annotations

import typer


def plan(file: str = typer.Option("stackgen.yaml", "-f", "--file")) -> None:
    """Apply the layer framework to the stack and explain every decision."""
