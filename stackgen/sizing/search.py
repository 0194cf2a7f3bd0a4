"""Find the smallest GPU / tensor-parallel size that fits a model."""

from __future__ import annotations

from stackgen.catalog import GpuProfile, ModelFacts, load_gpus
from stackgen.errors import InputError
from stackgen.sizing.core import SizeResult, size
from stackgen.sizing.engine import DEFAULT_PROFILER, EngineSettings, tp_choices


def try_size(facts: ModelFacts, gpu: GpuProfile, settings: EngineSettings,
             profiler: str = DEFAULT_PROFILER) -> SizeResult | None:
    try:
        return size(facts, gpu, settings, profiler)
    except InputError:
        return None


def smallest_tp(facts: ModelFacts, gpu: GpuProfile, settings: EngineSettings, limit: int = 8,
                profiler: str = DEFAULT_PROFILER) -> SizeResult | None:
    """The first fitting result over TP sizes (divisors of the heads) up to `limit`."""
    for tp in tp_choices(facts, limit):
        result = try_size(facts, gpu, settings.replace(tensor_parallel_size=tp), profiler)
        if result is not None and result.fits:
            return result
    return None


def smallest_fit(facts: ModelFacts, settings: EngineSettings, limit: int = 8,
                 profiler: str = DEFAULT_PROFILER) -> SizeResult | None:
    """Over every catalog GPU and TP up to `limit`: the fit using the least GPU memory
    in total (fewer GPUs first on ties)."""
    best: SizeResult | None = None
    best_key: tuple[int, int] | None = None
    for gpu in load_gpus().values():
        result = smallest_tp(facts, gpu, settings.replace(pipeline_parallel_size=1), limit, profiler)
        if result is None:
            continue
        key = (result.gpus * gpu.memory_bytes, result.gpus)
        if best_key is None or key < best_key:
            best, best_key = result, key
    return best


def fit_hint(facts: ModelFacts, gpu: GpuProfile, settings: EngineSettings,
             profiler: str = DEFAULT_PROFILER) -> str:
    """A note for a result that does not fit: the smallest TP here, or the smallest GPU/TP."""
    here = smallest_tp(facts, gpu, settings.replace(pipeline_parallel_size=1), profiler=profiler)
    if here is not None:
        return f"fits on {gpu.id} with --tp {here.tensor_parallel_size}"
    anywhere = smallest_fit(facts, settings, profiler=profiler)
    if anywhere is not None:
        return f"smallest fit: {anywhere.gpu} with --tp {anywhere.tensor_parallel_size}"
    return ("fits on no single node of 8 catalog GPUs at these settings; use pipeline parallelism "
            "across nodes (--pp), quantization, or a shorter --max-model-len")
