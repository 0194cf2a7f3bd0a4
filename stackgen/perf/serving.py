"""A replica under load: TTFT, TPOT, latency and throughput at a concurrency or a request
rate, from the step times of `stackgen.perf.step` (pure).

The engine is vLLM's continuous batching with chunked prefill: every step decodes one
token of each running sequence and spends the rest of `max_num_batched_tokens` on prompt
chunks. In steady state each request lives N steps (its prompt chunks, any wait for the
prefill budget, then output_tokens - 1 decode steps), so c requests in the system start
c / N new prompts per step. While that is below one prompt per step, prompts arrive as
lumps that a fraction of the steps carry; above it every step carries some. A closed loop
(`vllm bench serve --max-concurrency c`) keeps c requests in the system; a Poisson rate
lambda keeps lambda x latency of them (Little's law), found by bisection.
Concurrency is capped by max_num_seqs and by the KV cache (whole sequences of
input + output tokens, in 16-token blocks); above the cap requests queue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from stackgen.perf.params import PerfParams
from stackgen.perf.step import Replica, StepTime, step_time

BLOCK = 16


class RequestTooLong(ValueError):
    """One request of the workload does not fit in the replica's KV cache."""


@dataclass(frozen=True)
class Workload:
    input_tokens: int
    output_tokens: int
    concurrency: float | None = None     # closed loop: requests kept in flight
    request_rate: float | None = None    # open loop: Poisson arrivals per second (per replica)


@dataclass(frozen=True)
class Performance:
    concurrency: float          # requests in flight in the engine, after the caps
    limit: int                  # the cap: max_num_seqs or whole sequences the KV cache holds
    limited_by: str             # "max-num-seqs" | "kv-cache"
    ttft_s: float
    tpot_s: float
    e2e_s: float
    p95_ttft_s: float
    p95_e2e_s: float
    output_tokens_per_s: float
    requests_per_s: float
    saturated: bool             # more load than the cap admits: requests queue
    bound: str                  # what bounds the step: memory-bandwidth | compute | interconnect | engine-overhead | kv-cache | max-num-seqs
    hbm_floor_s: float          # the fastest decode step physics allows

    def to_json(self, error_band: dict[str, float] | None = None) -> dict:
        band = error_band or {}

        def spread(value: float, key: str) -> list[float]:
            e = band.get(key, 0.0)
            return [round(value * (1 - e), 1), round(value * (1 + e), 1)]

        ttft, tpot = self.ttft_s * 1e3, self.tpot_s * 1e3
        out = {"concurrency": round(self.concurrency, 2), "ttftMs": round(ttft, 1), "tpotMs": round(tpot, 2),
               "e2eLatencyMs": round(self.e2e_s * 1e3, 1), "p95LatencyMs": round(self.p95_e2e_s * 1e3, 1),
               "p95TtftMs": round(self.p95_ttft_s * 1e3, 1),
               "outputTokensPerS": round(self.output_tokens_per_s, 1),
               "requestsPerS": round(self.requests_per_s, 3), "saturated": self.saturated,
               "bound": self.bound, "concurrencyLimit": self.limit, "limitedBy": self.limited_by,
               "hbmFloorTpotMs": round(self.hbm_floor_s * 1e3, 2)}
        if band:
            out["errorBand"] = {"ttftMs": spread(ttft, "ttft"), "tpotMs": spread(tpot, "tpot"),
                                "outputTokensPerS": spread(self.output_tokens_per_s, "throughput"),
                                "basis": "80% of published holdout cases fall within this band (docs/performance-model.md)"}
        return out


def concurrency_limit(r: Replica, w: Workload) -> tuple[int, str]:
    """Sequences the engine runs at once: max_num_seqs, or whole requests the KV cache holds."""
    limit, why = r.max_num_seqs, "max-num-seqs"
    if r.kv_cache_tokens is not None:
        blocks = math.ceil((w.input_tokens + w.output_tokens) / BLOCK)
        fits = r.kv_cache_tokens // (blocks * BLOCK)
        if fits < limit:
            limit, why = fits, "kv-cache"
    return limit, why


@dataclass(frozen=True)
class _State:
    ttft: float
    tpot: float
    step: StepTime
    alone_ttft: float


def _steady(r: Replica, p: PerfParams, c: float, w: Workload, grouped: bool = True) -> _State:
    """Mean TTFT and TPOT with c requests in the engine (closed loop), c >= 1.

    Prompts that are prefilled in the same step finish in the same step and, in a closed
    loop, come back together: they arrive in groups of up to max_num_batched_tokens /
    input tokens, and a share `lump_sync` of that grouping survives the clients' jitter
    (fitted; 0 would be every prompt on its own). A Poisson stream (`grouped` False)
    arrives one prompt at a time."""
    inp, out = w.input_tokens, w.output_tokens
    budget = r.max_num_batched_tokens
    chunks = math.ceil(inp / budget)
    ctx = inp + out / 2                                   # mean context of a decoding sequence
    overhead = p.request_overhead_ms * 1e-3
    alone = step_time(r, p, decode_seqs=0, decode_context=0, prefill_tokens=min(inp, budget),
                      prefill_context=min(inp, budget) / 2).total * chunks
    group = 1.0
    if grouped:
        group = 1 + p.lump_sync * max(min(c, max(budget // inp, 1)) - 1, 0)
    n = chunks + out - 1 + p.arrival_wait_steps          # steps a request lives
    state = None
    for _ in range(8):
        decoding = c * max(out - 1, 0) / n
        starts = c / n                                     # new prompts per step
        lumps = starts / group                             # groups of prompts per step
        room = max(budget - decoding, 1)
        lump_steps = max(1, math.ceil(group * inp / room))  # steps one group's prompts take
        lumpy = lumps * lump_steps < 1
        if lumpy:                                          # a share of the steps carry a group
            chunk = group * inp / lump_steps
            others = max(c - group, 0) / n / group         # other groups' arrivals per step
            share = min(1.0, others * lump_steps)          # steps a decoding request shares with a prompt
        else:                                              # every step carries prompt tokens
            chunk = min(starts * inp, room)
            share = 1.0
        plain = step_time(r, p, decode_seqs=decoding, decode_context=ctx, prefill_tokens=0)
        mixed = step_time(r, p, decode_seqs=decoding, decode_context=ctx, prefill_tokens=chunk,
                          prefill_context=min(inp, budget) / 2)
        tpot = (1 - share) * plain.total + share * mixed.total
        # prompt tokens the budget admits per step, against those arriving
        admitted = max(budget - decoding, 1)
        demand = starts * inp
        queue_steps = 0.0
        if demand > admitted:                              # prefill-bound: prompts wait for budget
            queue_steps = c * (inp + out - 1) / budget - (chunks + out - 1)
        own = lump_steps if lumpy else max(chunks, inp / room)
        ttft = overhead + (p.arrival_wait_steps + own + max(queue_steps, 0)) * mixed.total
        n_new = chunks + out - 1 + p.arrival_wait_steps + max(queue_steps, 0)
        state = _State(ttft=ttft, tpot=tpot, step=mixed if share >= 0.5 else plain, alone_ttft=overhead + alone)
        if abs(n_new - n) < 1e-3 * n:
            break
        n = n_new
    assert state is not None
    return state


def _e2e(s: _State, w: Workload) -> float:
    return s.ttft + max(w.output_tokens - 1, 0) * s.tpot


def predict(r: Replica, p: PerfParams, w: Workload) -> Performance:
    """Mean and p95 latency and the throughput of one replica under `w`."""
    if w.input_tokens < 1 or w.output_tokens < 1:
        raise ValueError("input and output tokens must be at least 1")
    limit, limited_by = concurrency_limit(r, w)
    if limit < 1:
        raise RequestTooLong(f"a request of {w.input_tokens + w.output_tokens:,} tokens does not fit in the "
                             f"KV cache ({r.kv_cache_tokens:,} tokens)")
    if w.request_rate is not None:
        c, queued_wait, saturated = _poisson(r, p, w, limit)
    else:
        wanted = max(float(w.concurrency or 1), 1.0)
        c = min(wanted, limit)
        saturated = wanted > limit
        queued_wait = 0.0
    s = _steady(r, p, max(c, 1.0), w, grouped=w.request_rate is None)
    e2e = _e2e(s, w)
    rps = c / e2e if e2e > 0 else 0.0
    if w.request_rate is None and saturated:
        queued_wait = (float(w.concurrency) - limit) / rps      # closed loop: the extra requests queue
    elif w.request_rate is not None and not saturated:
        rps = w.request_rate
    ttft = s.ttft + queued_wait
    p95_ttft = s.alone_ttft + p.p95_over_mean["ttft"] * max(ttft - s.alone_ttft, 0)
    p95_tpot = s.tpot * (p.p95_over_mean["tpot"] if c > 1 else 1.0)
    tokens = max(w.output_tokens - 1, 0)
    bound = limited_by if saturated else s.step.bound
    return Performance(
        concurrency=c, limit=limit, limited_by=limited_by, ttft_s=ttft, tpot_s=s.tpot,
        e2e_s=ttft + tokens * s.tpot, p95_ttft_s=p95_ttft, p95_e2e_s=p95_ttft + tokens * p95_tpot,
        output_tokens_per_s=rps * w.output_tokens, requests_per_s=rps, saturated=saturated,
        bound=bound, hbm_floor_s=r.hbm_floor_s())


def _poisson(r: Replica, p: PerfParams, w: Workload, limit: int) -> tuple[float, float, bool]:
    """(requests in the engine, extra queueing seconds, saturated) at Poisson rate lambda:
    c = lambda x latency(c) (Little's law), plus the M/D/1 wait of prompts that arrive
    together; saturated when even the cap cannot serve lambda."""
    lam = float(w.request_rate or 0.0)
    cap = float(min(limit, w.concurrency or limit))
    at_cap = _e2e(_steady(r, p, max(cap, 1.0), w, grouped=False), w)
    if lam * at_cap > cap:
        return cap, 0.0, True
    lo, hi = 0.0, cap
    for _ in range(40):
        mid = (lo + hi) / 2
        if lam * _e2e(_steady(r, p, max(mid, 1.0), w, grouped=False), w) > mid:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-2 * max(hi, 1.0):   # 1% of the requests in flight
            break
    c = hi
    s = _steady(r, p, max(c, 1.0), w, grouped=False)
    prefill = s.alone_ttft - p.request_overhead_ms * 1e-3
    rho = min(lam * prefill, 0.95)
    wait = rho / (2 * (1 - rho)) * prefill
    return c, wait, False


@dataclass(frozen=True)
class Wave:
    """One batch of n prompts that arrive together and run to the end (an offline batch, or a
    benchmark that sends every prompt at once and fits them all in the engine)."""

    ttft_s: float
    tpot_s: float
    e2e_s: float
    output_tokens_per_s: float


def wave(r: Replica, p: PerfParams, n: int, w: Workload) -> Wave:
    """All n prompts are prefilled first, max_num_batched_tokens per step in arrival order,
    then decode together; mean TTFT is the mean prefill finish, latency the last token."""
    inp, out = w.input_tokens, w.output_tokens
    budget = r.max_num_batched_tokens
    total = n * inp
    steps = max(1, math.ceil(total / budget))
    chunk = total / steps
    prefill_step = step_time(r, p, decode_seqs=0, decode_context=0, prefill_tokens=chunk,
                             prefill_context=min(inp, budget) / 2).total
    prefill = steps * prefill_step
    overhead = p.request_overhead_ms * 1e-3
    ttft = overhead + prefill * (steps + 1) / (2 * steps)
    tpot = step_time(r, p, decode_seqs=n, decode_context=inp + out / 2, prefill_tokens=0).total
    e2e = overhead + prefill + max(out - 1, 0) * tpot
    return Wave(ttft_s=ttft, tpot_s=tpot, e2e_s=e2e, output_tokens_per_s=n * out / e2e)
