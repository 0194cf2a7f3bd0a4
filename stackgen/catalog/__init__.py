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

def stack_facts(stack, base_dir):
    """What the catalog (or each model's modelConfig file, relative to `base_dir`) knows
    about every model of a stack, by model name; None for a model it does not know. This is
    the I/O that `decide` (pure over the stack and these facts) does not do."""
    from pathlib import Path

    out = {}
    for model in stack.spec.models:
        if model.model_config_path:
            from stackgen.errors import InputError
            from stackgen.spec.checks import config_path_problem

            problem = config_path_problem(Path(base_dir), model.model_config_path)
            if problem:  # load_stack refused these already; a stack built in code may not
                raise InputError(problem[0], field=f"modelConfig of {model.name}", fix=problem[1])
            out[model.name] = resolve_model(str(Path(base_dir) / model.model_config_path))
        else:
            out[model.name] = model_from_source(model.source)
    return out


__all__ = [
    "stack_facts",
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
