"""Performance model (pure): TTFT, TPOT, latency and throughput of a vLLM replica.

`replica_for(facts, gpu, size_result)` describes one replica's per-token work from the
sizing core's result; `predict(replica, params, workload)` gives its `Performance` at a
concurrency or a Poisson request rate. The efficiency factors are data
(profiles/perf.yaml, `load_params`); docs/performance-model.md has the model and its error.
"""

from __future__ import annotations

from stackgen.catalog import GpuProfile, ModelFacts
from stackgen.perf.params import PerfParams, load_params
from stackgen.perf.serving import Performance, RequestTooLong, Workload, concurrency_limit, predict
from stackgen.perf.step import Replica, StepTime, replica, step_time

__all__ = ["PerfParams", "Performance", "Replica", "RequestTooLong", "StepTime", "Workload", "concurrency_limit",
           "load_params", "predict", "replica", "replica_for", "step_time"]


def replica_for(facts: ModelFacts, gpu: GpuProfile, result, params: PerfParams | None = None) -> Replica:
    """The replica a `SizeResult` describes (its TP, PP, dtype, quantization, KV cache
    and batching limits) on `gpu`."""
    return replica(facts, gpu, tp=result.tensor_parallel_size, pp=result.pipeline_parallel_size,
                   dtype=result.dtype, quantization=result.quantization,
                   kv_bytes_per_token=result.kv_bytes_per_token,
                   max_num_batched_tokens=result.max_num_batched_tokens, max_num_seqs=result.max_num_seqs,
                   kv_cache_tokens=result.pool_tokens, params=params or load_params())
