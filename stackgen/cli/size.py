"""`stackgen size` (placeholder until the sizing issue lands)."""

from __future__ import annotations

import typer


def size(
    model: str = typer.Option(..., "--model", help="Catalog name, HF id, or path to a config.json."),
    gpu: str = typer.Option(..., "--gpu", help="GPU id, e.g. h100-80gb."),
) -> None:
    """Size a model on a GPU: weights, KV cache, concurrency."""
    from stackgen.errors import InputError

    raise InputError("`stackgen size` is not available in this build yet")
