"""The GPU catalog: one YAML file per GPU under ``profiles/gpus/``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType

from stackgen.yamlio import read_data
from stackgen.resources import profiles_dir

#: The GPU ids of the contract, in the order `stackgen` lists them.
CONTRACT_IDS = ("h100-80gb", "h200-141gb", "a100-80gb", "a100-40gb", "l40s-48gb",
                "l4-24gb", "a10g-24gb", "t4-16gb")


@dataclass(frozen=True)
class GpuProfile:
    """One GPU model. ``memory_bytes`` is the total the CUDA runtime reports
    (``torch.cuda.mem_get_info()[1]``), which is what vLLM multiplies by
    ``--gpu-memory-utilization``; it is a little below nvidia-smi's total."""

    id: str
    name: str
    memory_bytes: int
    memory_gib: float
    bandwidth_gbs: float
    bf16_tflops: float
    fp8_tflops: float | None
    mig_profiles: tuple[str, ...]
    product_label: str
    provider_labels: Mapping[str, Mapping[str, str]]
    aliases: tuple[str, ...]
    gpu_class: str
    compute_capability: str = "8.0"
    sources: tuple[str, ...] = field(default=())
    #: how the GPUs of one node reach each other: "nvlink" (SXM boards, NVSwitch) or
    #: "pcie"; and the bandwidth per GPU in one direction, GB/s (tensor-parallel all-reduce)
    interconnect: str = "pcie"
    interconnect_gbs: float = 32.0

    @property
    def supports_bf16(self) -> bool:
        return float(self.compute_capability) >= 8.0

    @property
    def supports_fp8(self) -> bool:
        return self.fp8_tflops is not None


def _profile(doc: dict) -> GpuProfile:
    labels = {p: MappingProxyType(dict(v or {})) for p, v in (doc.get("provider_labels") or {}).items()}
    return GpuProfile(
        id=doc["id"], name=doc["name"], memory_bytes=int(doc["memory_bytes"]),
        memory_gib=round(int(doc["memory_bytes"]) / 2**30, 2),
        bandwidth_gbs=float(doc["bandwidth_gbs"]), bf16_tflops=float(doc["bf16_tflops"]),
        fp8_tflops=None if doc.get("fp8_tflops") is None else float(doc["fp8_tflops"]),
        mig_profiles=tuple(doc.get("mig_profiles") or ()), product_label=doc["product_label"],
        provider_labels=MappingProxyType(labels), aliases=tuple(str(a) for a in doc.get("aliases") or ()),
        gpu_class=doc["gpu_class"], compute_capability=str(doc.get("compute_capability", "8.0")),
        sources=tuple(doc.get("sources") or ()),
        interconnect=str(doc.get("interconnect") or "pcie"),
        interconnect_gbs=float(doc.get("interconnect_gbs") or 32.0),
    )


INTERCONNECTS = ("nvlink", "xgmi", "pcie")
REQUIRED = ("id", "name", "memory_bytes", "bandwidth_gbs", "bf16_tflops", "product_label", "gpu_class")


#: numeric keys and what they must be
_NUMBERS = {"memory_bytes": "a positive number of bytes (the CUDA runtime's total)",
            "bandwidth_gbs": "a positive number (GB/s of HBM or GDDR bandwidth)",
            "bf16_tflops": "a positive number (dense bf16 TFLOPS)",
            "fp8_tflops": "a positive number (dense fp8 TFLOPS) or null without fp8 tensor cores",
            "interconnect_gbs": "a positive number (GB/s per GPU, one direction)"}


def _validated(doc, file: str, line_of=lambda key: None, stem: str | None = None) -> GpuProfile:
    """A GPU profile document, or InputError naming the file, the line and the key."""
    from stackgen.errors import InputError

    def bad(message: str, key: str | None, fix: str) -> InputError:
        return InputError(message, file=file, line=line_of(key) if key else line_of(None), field=key, fix=fix)

    if not isinstance(doc, dict):
        raise bad("a GPU profile must be a YAML mapping", None, "see profiles/gpus/h100-80gb.yaml")
    for key in REQUIRED:
        if doc.get(key) in (None, ""):
            raise bad(f"required key {key!r} is missing", key, "see profiles/gpus/h100-80gb.yaml for every key")
    for key, what in _NUMBERS.items():
        value = doc.get(key)
        if value is None and key in ("fp8_tflops", "interconnect_gbs"):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise bad(f"{key} is {value!r}", key, f"give {what}")
    for key in ("aliases", "mig_profiles", "sources"):
        if doc.get(key) is not None and not isinstance(doc.get(key), list):
            raise bad(f"{key} must be a list", key, f"write {key}: [a, b]")
    if doc.get("provider_labels") is not None and not isinstance(doc.get("provider_labels"), dict):
        raise bad("provider_labels must be a mapping of provider to node labels", "provider_labels",
                  "write provider_labels: {gke: {cloud.google.com/gke-accelerator: ...}}")
    try:
        gpu = _profile(doc)
    except (TypeError, ValueError, AttributeError) as err:
        raise bad(f"a value has the wrong type: {err}", None,
                  "numbers for memory_bytes, bandwidth_gbs and *_tflops; lists for aliases and "
                  "mig_profiles; a mapping for provider_labels") from None
    if gpu.interconnect not in INTERCONNECTS:
        raise bad(f"interconnect {gpu.interconnect!r} is not one of {', '.join(INTERCONNECTS)}", "interconnect",
                  "nvlink for SXM boards with NVLink/NVSwitch, xgmi for AMD Infinity Fabric, pcie otherwise")
    if stem is not None and gpu.id != stem:
        raise bad(f"id {gpu.id!r} is not the file's name", "id", f"name the file {gpu.id}.yaml")
    return gpu


def _checked(path) -> GpuProfile:
    """A catalog GPU profile file (its id must be its file name)."""
    return _validated(read_data(path), str(path), stem=path.stem)


def load_gpu_file(path: str) -> GpuProfile:
    """A user's GPU profile (`stackgen size --gpu PATH`), in the catalog's schema
    (docs/extending.md); errors name the file, the line and the key."""
    from stackgen.spec.yamlio import field_line
    from stackgen.yamlio import YamlError, read_roundtrip

    try:
        doc = read_roundtrip(path)
    except YamlError as err:
        raise err.input_error("pass a GPU id, or the path to a GPU profile YAML file (docs/extending.md)",
                              file=str(path)) from None
    return _validated(doc, str(path), lambda key: field_line(doc, (key,) if key else ()))


@cache
def load_gpus() -> dict[str, GpuProfile]:
    """All GPU profiles by id (contract ids first, then any extra files)."""
    found = {}
    for path in sorted((profiles_dir() / "gpus").glob("*.yaml")):
        gpu = _checked(path)
        found[gpu.id] = gpu
    ordered = {i: found[i] for i in CONTRACT_IDS if i in found}
    ordered.update({i: g for i, g in found.items() if i not in ordered})
    return ordered


def gpu_ids() -> list[str]:
    return list(load_gpus())


@cache
def _index() -> dict[str, str]:
    index: dict[str, str] = {}
    for gpu in load_gpus().values():
        for key in (gpu.id, gpu.product_label, *gpu.aliases):
            index.setdefault(key.lower(), gpu.id)
    return index


def resolve_gpu(name: str) -> GpuProfile:
    """A GPU by id, alias or product label, case-insensitive; LookupError if unknown."""
    key = str(name).strip().lower().replace("_", "-").replace(" ", "-")
    gid = _index().get(key)
    if gid is None:
        raise LookupError(f"unknown GPU '{name}'; known: {', '.join(gpu_ids())}")
    return load_gpus()[gid]
