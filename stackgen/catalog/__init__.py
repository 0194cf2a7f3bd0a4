"""GPU and model catalogs, loaded from the YAML data in ``profiles/`` (data, not code).

``resolve_gpu`` and ``resolve_model`` are the entry points; both read the profiles once
(cached) through :func:`stackgen.resources.profiles_dir`.
"""

from __future__ import annotations

from stackgen.catalog.gpus import GpuProfile, gpu_ids, load_gpus, resolve_gpu
from stackgen.catalog.models import (
    ModelFacts,
    facts_from_config,
    load_models,
    model_from_source,
    model_names,
    resolve_model,
)

__all__ = [
    "GpuProfile",
    "ModelFacts",
    "facts_from_config",
    "gpu_ids",
    "load_gpus",
    "load_models",
    "model_from_source",
    "model_names",
    "resolve_gpu",
    "resolve_model",
]
