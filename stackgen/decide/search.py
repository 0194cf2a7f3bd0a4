"""LLM layouts: every node pool x TP x PP (x fp8 where the stack allows it) x replicas,
judged by the performance model at the model's peak traffic (pure).

With an SLO the cheapest layout whose predicted p95 latency and p95 TTFT meet it wins
(profiles/prices.yaml; fewer GPUs, then lower latency on ties). With none, the article's
GPU-tier rule picks the pool (LLMs on the largest GPUs that fit) and the TP with the most
output tokens per second per GPU at saturation wins there (pipeline parallelism across
nodes only when no single-node layout fits); replicas then serve the peak at
`target_utilization` of a replica's saturated rate. The runner-up layouts stay in the plan
as alternatives, each with why it lost.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from stackgen import capacity
from stackgen.catalog import GpuProfile, ModelFacts
from stackgen.perf import (Performance, PerfParams, Replica, Workload, concurrency_limit, load_params, predict,
                           replica_for)
from stackgen.sizing.engine import EngineSettings
from stackgen.sizing.plan import fit_layout, layouts
from stackgen.sizing.tables import price_table, throughput_table
from stackgen.spec.models import Model, NodePool

#: alternatives listed in the plan beside the chosen layout
ALTERNATIVES = 5
#: replicas a pool of 0 nodes (scaled from zero by the cluster autoscaler) is taken to hold
UNCAPPED_REPLICAS = 64


@dataclass(frozen=True)
class Layout:
    """One way to run a replica: pool, GPU as a pod sees it, TP x PP, settings, sizing."""

    pool: NodePool | None
    gpu: GpuProfile
    result: object                  # SizeResult
    note: str | None
    replica: Replica
    units_per_replica: int
    capacity: int                   # replicas the pool holds
    unit_price: float | None        # per unit of the pool's GPU resource and hour

    @property
    def gpus(self) -> int:
        return self.result.tensor_parallel_size * self.result.pipeline_parallel_size

    @property
    def tp(self) -> int:
        return self.result.tensor_parallel_size

    @property
    def pp(self) -> int:
        return self.result.pipeline_parallel_size


@dataclass(frozen=True)
class Option:
    layout: Layout
    replicas: int
    perf: Performance               # one replica at its share of the peak
    saturated_tokens_per_s: float   # one replica at its concurrency limit
    cost: float | None              # per hour, all replicas
    slo_met: bool | None            # None: the model states no SLO
    closeness: float                # max(predicted / SLO) over the SLO's terms
    short: bool                     # the pool cannot hold the replicas the peak needs
    why: str = ""
    needed: int | None = None       # replicas the peak needs (None: no count meets the SLO)

    @property
    def units(self) -> int:
        return self.replicas * self.layout.units_per_replica

    def to_json(self) -> dict:
        lay = self.layout
        return {"nodePool": lay.pool.name if lay.pool else None, "gpu": lay.gpu.id,
                "tensorParallelSize": lay.tp, "pipelineParallelSize": lay.pp,
                "quantization": lay.result.quantization, "replicas": self.replicas,
                "gpus": self.replicas * lay.gpus,
                "costPerHour": None if self.cost is None else round(self.cost, 2),
                "ttftMs": round(self.perf.ttft_s * 1e3, 1), "p95TtftMs": round(self.perf.p95_ttft_s * 1e3, 1),
                "p95LatencyMs": round(self.perf.p95_e2e_s * 1e3, 1),
                "outputTokensPerSPerGpu": round(self.saturated_tokens_per_s / max(lay.gpus, 1), 1),
                "sloMet": self.slo_met, "why": self.why}


@dataclass(frozen=True)
class Choice:
    chosen: Option
    alternatives: tuple[Option, ...]
    slo_unmet: bool
    autoscale_concurrency: int      # per-replica concurrency the autoscaler targets
    reasons: tuple[str, ...]
    compared: int = 0               # layouts judged


def unit_price(pool: NodePool | None, gpu_id: str, provider: str) -> float | None:
    """Price of one unit of the pool's GPU resource per hour: a GPU's price, shared by its
    MIG instances or time-slicing replicas (profiles/prices.yaml: example prices)."""
    table = price_table()["per_gpu_hour"].get(gpu_id)
    if not table:
        return None
    price = table.get(provider, table.get("generic"))
    if price is None:
        price = min(table.values())
    if pool is not None and pool.is_gpu:
        per_gpu = capacity.pool_units_per_node(pool) / max(pool.gpus, 1)
        price = price / max(per_gpu, 1)
    return float(price)


def _perf_gpu(gpu: GpuProfile, pool: NodePool | None) -> GpuProfile:
    """The share of the GPU one replica's work gets: a MIG instance has its compute and
    memory slices; a time-sliced GPU is shared by its replicas when all are busy (at peak)."""
    if pool is None:
        return gpu
    if pool.mig:
        from stackgen.catalog import resolve_gpu

        g, slices = capacity.mig_slices(resolve_gpu(pool.gpu), pool.mig)
        return _share(gpu, g / capacity.MIG_COMPUTE_SLICES, slices / capacity.MIG_MEMORY_SLICES)
    if pool.time_slicing:
        return _share(gpu, 1 / pool.time_slicing, 1 / pool.time_slicing)
    return gpu


def _share(gpu: GpuProfile, compute: float, bandwidth: float) -> GpuProfile:
    return dataclasses.replace(gpu, bandwidth_gbs=gpu.bandwidth_gbs * bandwidth, bf16_tflops=gpu.bf16_tflops * compute,
                               fp8_tflops=gpu.fp8_tflops * compute if gpu.fp8_tflops else None)


def _quantizations(model: Model, facts: ModelFacts, gpu: GpuProfile) -> list[str]:
    """`quantization: auto` lets the plan choose fp8 (w8a8) on GPUs with fp8 tensor cores."""
    q = model.quantization
    if q == "auto":
        out = ["none"]
        if gpu.supports_fp8 and not facts.quantization:
            out.append("fp8")
        return out
    return [q or "none"]


def candidate_layouts(model: Model, facts: ModelFacts, pool: NodePool | None, gpu: GpuProfile, *,
                      gpus_per_node: int, nodes: int, util: float, provider: str,
                      params: PerfParams, profiler: str = "v1") -> tuple[list[Layout], list[str]]:
    """Every layout of the model that fits on `pool` (the fitting ones), and notes on
    those that do not."""
    sliced = bool(pool and (pool.mig or pool.time_slicing))
    units_node = capacity.pool_units_per_node(pool) if pool is not None else gpus_per_node
    price_id = pool.gpu if pool is not None else gpu.id
    from stackgen.catalog import resolve_gpu

    price = unit_price(pool, resolve_gpu(price_id).id, provider)
    perf_gpu = _perf_gpu(gpu, pool)
    out, misses = [], []
    for quant in _quantizations(model, facts, gpu):
        base = EngineSettings(max_model_len=model.max_model_len, dtype=model.dtype or "auto",
                              quantization=quant, gpu_memory_utilization=util)
        for tp, pp in layouts(facts, gpus_per_node, max(nodes, 1), sliced):
            fit, tried, note = fit_layout(facts, gpu, tp, pp, base, profiler)
            if fit is None:
                if tried is not None:
                    misses.append(f"TP {tp} x PP {pp}" + (f" {quant}" if quant != "none" else "")
                                  + f": {'; '.join(tried.notes) or 'does not fit'}")
                continue
            units = 1 if sliced else tp
            if nodes > 0:
                cap = capacity.replicas_that_fit(nodes, units_node, units, pods_per_replica=pp)
            else:   # a pool that scales from zero nodes: its size is the autoscaler's
                cap = UNCAPPED_REPLICAS
            if cap < 1:
                continue
            t = model.traffic
            total = t.avg_input_tokens + t.avg_output_tokens
            rep = replica_for(facts, perf_gpu, fit, params)
            if (fit.max_model_len and total > fit.max_model_len) or \
                    concurrency_limit(rep, Workload(t.avg_input_tokens, t.avg_output_tokens))[0] < 1:
                misses.append(f"TP {tp} x PP {pp}: a {total:,}-token request does not fit "
                              f"(max-model-len {fit.max_model_len:,}, {fit.kv_cache_tokens:,} KV tokens)")
                continue
            out.append(Layout(pool=pool, gpu=gpu, result=fit, note=note, replica=rep,
                              units_per_replica=units * pp, capacity=cap, unit_price=price))
    return out, misses


def _judge(lay: Layout, model: Model, replicas: int, params: PerfParams, saturated_tps: float) -> Option:
    t = model.traffic
    peak = t.peak_rps
    w = Workload(t.avg_input_tokens, t.avg_output_tokens,
                 request_rate=peak / replicas if peak > 0 else None,
                 concurrency=None if peak > 0 else 1)
    perf = predict(lay.replica, params, w)
    slo = model.slo
    ratios = []
    if slo.p95_latency_ms is not None:
        ratios.append(perf.p95_e2e_s * 1e3 / slo.p95_latency_ms)
    if slo.ttft_ms is not None:
        ratios.append(perf.p95_ttft_s * 1e3 / slo.ttft_ms)
    closeness = max(ratios) if ratios else 0.0
    if perf.saturated and peak > 0:
        closeness = max(closeness, 1.0) * (peak / replicas) / max(perf.requests_per_s, 1e-9)
    met = None if not ratios else (not perf.saturated and closeness <= 1.0)
    cost = None if lay.unit_price is None else lay.unit_price * lay.units_per_replica * replicas
    return Option(layout=lay, replicas=replicas, perf=perf, saturated_tokens_per_s=saturated_tps,
                  cost=cost, slo_met=met, closeness=closeness, short=False)


def _saturated(lay: Layout, model: Model, params: PerfParams) -> Performance:
    t = model.traffic
    return predict(lay.replica, params, Workload(t.avg_input_tokens, t.avg_output_tokens,
                                                 concurrency=lay.replica.max_num_seqs))


def _with_slo(lay: Layout, model: Model, params: PerfParams, explicit: int | None) -> Option:
    """The fewest replicas (up to the pool's capacity) that meet the SLO at the peak."""
    sat = _saturated(lay, model, params).output_tokens_per_s
    if explicit:
        return _judge(lay, model, explicit, params, sat)
    top = _judge(lay, model, lay.capacity, params, sat)
    if not top.slo_met:
        return dataclasses.replace(top, short=True, needed=None)
    lo, hi = 1, lay.capacity
    best = top
    while lo < hi:
        mid = (lo + hi) // 2
        option = _judge(lay, model, mid, params, sat)
        if option.slo_met:
            best, hi = option, mid
        else:
            lo = mid + 1
    best = best if best.replicas == lo else _judge(lay, model, lo, params, sat)
    return dataclasses.replace(best, needed=best.replicas)


def _without_slo(lay: Layout, model: Model, params: PerfParams, explicit: int | None) -> Option:
    """Replicas that serve the peak at `target_utilization` of a replica's saturated rate."""
    sat = _saturated(lay, model, params)
    if explicit:
        return _judge(lay, model, explicit, params, sat.output_tokens_per_s)
    peak = model.traffic.peak_rps
    per = max(sat.requests_per_s * params.target_utilization, 1e-9)
    need = max(1, math.ceil(peak / per)) if peak > 0 else 1
    option = _judge(lay, model, min(need, lay.capacity), params, sat.output_tokens_per_s)
    return dataclasses.replace(option, short=need > lay.capacity, needed=need)


def _cost_key(o: Option) -> tuple:
    return (0 if o.slo_met else 1, math.inf if o.cost is None else round(o.cost, 6), o.replicas * o.layout.gpus,
            o.perf.p95_e2e_s, o.closeness)


def _rank_key(o: Option) -> tuple:
    """Alternatives: those that meet the SLO by cost, then the others by how close they come."""
    if o.slo_met:
        return (0, *_cost_key(o)[1:])
    return (1, o.closeness, math.inf if o.cost is None else o.cost)


def _closest_key(o: Option) -> tuple:
    return (o.closeness, math.inf if o.cost is None else o.cost)


def _per_gpu(o: Option) -> float:
    return o.saturated_tokens_per_s / max(o.layout.gpus, 1)


def _throughput_key(o: Option) -> tuple:
    return (round(_per_gpu(o), 6), -o.layout.gpus)


def choose(model: Model, layouts_by_pool: list[list[Layout]], params: PerfParams | None = None,
           explicit_replicas: int | None = None) -> Choice:
    """The layout to plan, the runner-ups, and whether the SLO can be met at all.
    `layouts_by_pool` is in the GPU-tier order of the pools (used without an SLO)."""
    params = params or load_params()
    has_slo = model.slo.p95_latency_ms is not None or model.slo.ttft_ms is not None
    every = [lay for pool in layouts_by_pool for lay in pool]
    if has_slo:
        options = [_with_slo(lay, model, params, explicit_replicas) for lay in every]
        met = sorted((o for o in options if o.slo_met), key=_cost_key)
        unmet = not met
        chosen = met[0] if met else min(options, key=_closest_key)
    else:
        options = [_without_slo(lay, model, params, explicit_replicas) for lay in every]
        tier_pool = next(pool for pool in layouts_by_pool if pool)
        on_pool = [o for o in options if o.layout in tier_pool]
        # without an SLO to pay for it, a multi-node replica (PP across nodes: LeaderWorkerSet,
        # Ray, the node network in every step) is the last resort, as in the article
        on_pool = [o for o in on_pool if o.layout.pp == 1] or on_pool
        chosen = max(on_pool, key=_throughput_key)
        unmet = False
    rest = sorted((o for o in options if o is not chosen), key=_rank_key if has_slo else (lambda o: -_per_gpu(o)))
    alternatives = tuple(dataclasses.replace(o, why=_why(o, chosen, has_slo, model)) for o in rest[:ALTERNATIVES])
    chosen = dataclasses.replace(chosen, why=_why(chosen, chosen, has_slo, model))
    target = _autoscale_target(chosen, model, params, has_slo)
    return Choice(chosen=chosen, alternatives=alternatives, slo_unmet=unmet,
                  autoscale_concurrency=target, reasons=_reasons(chosen, model, has_slo, unmet, target),
                  compared=len(options))


#: The autoscaler's target stays below what a replica can run at once (max-num-seqs or the
#: KV cache): requests in flight never exceed that cap, so a target at it would never scale.
AUTOSCALE_HEADROOM = 0.8


def _autoscale_target(o: Option, model: Model, params: PerfParams, has_slo: bool) -> int:
    """Requests in flight per replica the autoscaler keeps: with an SLO the most that still
    meet it (closed loop); without one what a replica runs at its share of the peak; never
    above AUTOSCALE_HEADROOM of the replica's concurrency limit."""
    lay, t = o.layout, model.traffic
    limit = max(1, min(lay.replica.max_num_seqs, o.perf.limit))
    ceiling = max(1, math.floor(limit * AUTOSCALE_HEADROOM))
    if not has_slo:
        return max(1, min(ceiling, math.ceil(o.perf.concurrency)))

    def meets(c: int) -> bool:
        p = predict(lay.replica, params, Workload(t.avg_input_tokens, t.avg_output_tokens, concurrency=c))
        ok = not p.saturated
        if model.slo.p95_latency_ms is not None:
            ok = ok and p.p95_e2e_s * 1e3 <= model.slo.p95_latency_ms
        if model.slo.ttft_ms is not None:
            ok = ok and p.p95_ttft_s * 1e3 <= model.slo.ttft_ms
        return ok

    if not meets(1):
        return 1
    lo, hi = 1, ceiling
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if meets(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _money(cost: float | None) -> str:
    return "no price" if cost is None else f"${cost:,.2f}/h"


def _layout_name(o: Option) -> str:
    lay = o.layout
    q = lay.result.quantization
    where = lay.pool.name if lay.pool else lay.gpu.id
    return (f"{o.replicas} x TP {lay.tp}" + (f" x PP {lay.pp}" if lay.pp > 1 else "")
            + (f" {q}" if q != "none" else "") + f" on {where} ({lay.gpu.id})")


def _miss(o: Option, model: Model) -> str:
    p, slo = o.perf, model.slo
    if p.saturated:
        share = model.traffic.peak_rps / max(o.replicas, 1)
        return (f"saturated: a replica serves at most {p.requests_per_s:.2f} rps ({p.limit} in flight, "
                f"the {p.limited_by} limit) and {share:.2f} rps arrive")
    parts = []
    if slo.p95_latency_ms is not None and p.p95_e2e_s * 1e3 > slo.p95_latency_ms:
        parts.append(f"p95 latency {p.p95_e2e_s * 1e3:,.0f} ms > {slo.p95_latency_ms:g} ms")
    if slo.ttft_ms is not None and p.p95_ttft_s * 1e3 > slo.ttft_ms:
        parts.append(f"p95 TTFT {p.p95_ttft_s * 1e3:,.0f} ms > {slo.ttft_ms:g} ms")
    floor = p.hbm_floor_s * max(model.traffic.avg_output_tokens - 1, 0) * 1e3
    if slo.p95_latency_ms is not None and floor > slo.p95_latency_ms:
        parts.append(f"the HBM floor alone is {floor:,.0f} ms for {model.traffic.avg_output_tokens} tokens")
    return "; ".join(parts) or "misses the SLO"


def _why(o: Option, chosen: Option, has_slo: bool, model: Model) -> str:
    if has_slo:
        if o is chosen or o.layout is chosen.layout and o.replicas == chosen.replicas:
            if o.slo_met:
                return f"cheapest layout that meets the SLO ({_money(o.cost)})"
            return f"closest to the SLO; no layout meets it: {_miss(o, model)}"
        if o.slo_met:
            more = ("" if o.cost is None or chosen.cost is None or chosen.cost <= 0
                    else f", {o.cost / chosen.cost - 1:+.0%} cost")
            return f"meets the SLO at {_money(o.cost)}{more}"
        return _miss(o, model) + (f" even at {o.replicas} replica(s), all the pool holds" if o.short else "")
    per, best = _per_gpu(o), _per_gpu(chosen)
    if o is chosen:
        return f"most output tokens/s per GPU on the tier's pool ({per:,.0f} at saturation)"
    tail = " (not the LLM tier's pool)" if chosen.layout.pool is not o.layout.pool else ""
    return f"{per:,.0f} output tokens/s per GPU at saturation against {best:,.0f}{tail}"


def _reasons(o: Option, model: Model, has_slo: bool, unmet: bool, target: int) -> tuple[str, ...]:
    p, t = o.perf, model.traffic
    load = (f"{t.peak_rps:g} rps at peak over {o.replicas} replica(s)" if t.peak_rps > 0 else "one request at a time")
    out = [f"{_layout_name(o)}: {o.why}",
           f"predicted at {load} ({t.avg_input_tokens} in / {t.avg_output_tokens} out tokens): "
           f"TTFT {p.ttft_s * 1e3:,.0f} ms (p95 {p.p95_ttft_s * 1e3:,.0f}), TPOT {p.tpot_s * 1e3:.1f} ms "
           f"(HBM floor {p.hbm_floor_s * 1e3:.1f}), p95 latency {p.p95_e2e_s * 1e3:,.0f} ms, "
           f"{p.concurrency:.1f} requests in flight per replica, bound by {p.bound} "
           "(docs/performance-model.md)",
           f"autoscaling target: {target} requests in flight per replica"
           + (" (the most that meet the SLO" if has_slo else " (its share of the peak")
           + f", at most {AUTOSCALE_HEADROOM:.0%} of the {min(o.layout.replica.max_num_seqs, p.limit)} a replica admits)"]
    if o.short and o.needed:
        out.append(f"the pool holds {o.replicas} replica(s) of this layout but about {o.needed} are needed for "
                   f"{t.peak_rps:g} rps: add nodes or GPUs")
    elif o.short:
        out.append(f"the pool holds {o.replicas} replica(s) of this layout and no count it holds meets the SLO: "
                   "add nodes or GPUs")
    if o.cost is not None:
        out.append(f"cost {_money(o.cost)} for {o.replicas * o.layout.gpus} GPU(s) "
                   f"({price_table().get('label', 'profiles/prices.yaml')})")
    return tuple(out)


def headroom() -> float:
    return float(throughput_table()["headroom"])
