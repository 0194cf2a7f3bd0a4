"""`stackgen init` (being written)."""

from __future__ import annotations

import typer


def init(output: str = typer.Option("stackgen.yaml", "-o", "--output")) -> None:
    """Describe the workload and write stackgen.yaml."""
