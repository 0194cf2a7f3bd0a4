"""The efficiency factors of the performance model: profiles/perf.yaml, checked on load."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from stackgen.resources import profiles_dir
from stackgen.yamlio import read_data


@dataclass(frozen=True)
class AllReduce:
    latency_us: float
    bus_efficiency: float


@dataclass(frozen=True)
class PerfParams:
    hbm_efficiency: float
    mfu_max: float
    roofline_k: float
    int4_compute_factor: float
    step_overhead_ms: float
    step_overhead_per_seq_us: float
    layer_overhead_us: float
    moe_layer_factor: float
    moe_slice_half: float
    moe_hbm_efficiency: float
    allreduce: Mapping[str, AllReduce]
    inter_node_gbs: float
    inter_node_latency_us: float
    request_overhead_ms: float
    arrival_wait_steps: float
    lump_sync: float
    target_utilization: float
    p95_over_mean: Mapping[str, float]
    error_band: Mapping[str, float]

    def replace(self, **changes: Any) -> PerfParams:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return PerfParams(**values)

    def to_document(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "allreduce":
                value = {k: {"latency_us": v.latency_us, "bus_efficiency": v.bus_efficiency}
                         for k, v in value.items()}
            elif isinstance(value, Mapping):
                value = dict(value)
            out[f.name] = value
        return out


#: factors that are shares of a peak: strictly between 0 and 1 (1 allowed)
_SHARES = ("hbm_efficiency", "mfu_max", "int4_compute_factor", "target_utilization", "moe_hbm_efficiency")


def parse(doc: Any, file: str = "profiles/perf.yaml") -> PerfParams:
    """A perf profile document, or InputError naming the file and the key that is wrong."""
    from stackgen.errors import InputError

    if not isinstance(doc, dict):
        raise InputError("the performance profile must be a YAML mapping", file=file)
    names = {f.name for f in fields(PerfParams)}
    missing = sorted(names - set(doc))
    unknown = sorted(set(doc) - names)
    if missing or unknown:
        what = "; ".join(([f"missing keys: {', '.join(missing)}"] if missing else [])
                         + ([f"unknown keys: {', '.join(unknown)}"] if unknown else []))
        raise InputError(what, file=file, field=(missing or unknown)[0],
                         fix="see profiles/perf.yaml as shipped for every key")
    try:
        allreduce = {str(k): AllReduce(float(v["latency_us"]), float(v["bus_efficiency"]))
                     for k, v in doc["allreduce"].items()}
        values = {n: float(doc[n]) for n in names - {"allreduce", "p95_over_mean", "error_band"}}
        p95 = {str(k): float(v) for k, v in doc["p95_over_mean"].items()}
        band = {str(k): float(v) for k, v in doc["error_band"].items()}
    except (TypeError, ValueError, KeyError, AttributeError) as err:
        raise InputError(f"a value has the wrong type or shape: {err}", file=file,
                         fix="numbers for the factors; allreduce: {kind: {latency_us, bus_efficiency}}") from None
    for name in _SHARES:
        if not 0 < values[name] <= 1:
            raise InputError(f"{name} must be in (0, 1], got {values[name]}", file=file, field=name,
                             fix="a share of the hardware's peak")
    if values["lump_sync"] > 1:
        raise InputError(f"lump_sync must be in [0, 1], got {values['lump_sync']}", file=file, field="lump_sync",
                         fix="the share of a closed loop's prompt grouping that survives (0 to 1)")
    for name, value in values.items():
        if value < 0:
            raise InputError(f"{name} must not be negative", file=file, field=name, fix="a positive number")
    for key in ("ttft", "tpot"):
        if p95.get(key, 0) < 1:
            raise InputError(f"p95_over_mean.{key} must be at least 1", file=file,
                             field=f"p95_over_mean.{key}", fix="p95 is not below the mean")
    return PerfParams(allreduce=MappingProxyType(allreduce), p95_over_mean=MappingProxyType(p95),
                      error_band=MappingProxyType(band), **values)


@cache
def load_params(path: Path | None = None) -> PerfParams:
    path = path or profiles_dir() / "perf.yaml"
    return parse(read_data(path), str(path))
