"""Cold start of a replica, phase by phase, from profiles/storage.yaml (pure).

A first start on a new node pulls the image, downloads the weights into the model cache
volume, loads them into GPU memory, compiles the model with torch.compile from an empty
cache, captures CUDA graphs and profiles memory. A later start (a restart, or a scale-up on
a node that has the image) finds the weights and the compile cache on the volume. The
figures and their sources are in profiles/storage.yaml and tests/sizing_cases/startup_timings.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackgen.sizing.tables import storage_table

GiB = 1024**3


@dataclass(frozen=True)
class ColdStart:
    first: dict[str, float]    # phase -> seconds, first start on a new node
    warm: dict[str, float]     # phase -> seconds, image cached, weights and compile cache on the volume

    @property
    def first_seconds(self) -> float:
        return round(sum(self.first.values()), 1)

    @property
    def warm_seconds(self) -> float:
        return round(sum(self.warm.values()), 1)

    def to_json(self) -> dict:
        return {"firstStartSeconds": self.first_seconds, "warmStartSeconds": self.warm_seconds,
                "phases": {"first": {k: round(v, 1) for k, v in self.first.items()},
                           "warm": {k: round(v, 1) for k, v in self.warm.items()}}}


def _scheme(source: str) -> str:
    return source.split("://", 1)[0] if "://" in source else "default"


def cold_start(weight_bytes: int, source: str, kind: str, *, weight_bytes_per_gpu: int | None = None,
               layers: int = 0, tp: int = 1, pp: int = 1, moe: bool = False) -> ColdStart:
    """Phases of a start of one replica holding `weight_bytes` of weights (each GPU its
    `weight_bytes_per_gpu`) of a model with `layers` layers split over TP x PP GPUs."""
    t = storage_table()
    gb = weight_bytes / 1e9
    rate = t["download_gbs"].get(_scheme(source), t["download_gbs"]["default"])
    download = 0.0 if _scheme(source) == "pvc" else gb / rate
    per_gpu = (weight_bytes_per_gpu if weight_bytes_per_gpu is not None else weight_bytes) / GiB
    load = per_gpu / t["load_gibs_per_gpu"]
    image = t["image"]
    pull = image["size_gb"] / image["pull_gbs"]
    if kind != "llm":
        fixed = t["other"]["startup_seconds"]
        first = {"imagePull": pull, "download": download, "load": load, "engineStart": fixed}
        warm = {"imagePull": image["cached_seconds"], "download": 0.0, "load": load, "engineStart": fixed}
        return ColdStart(first, warm)
    llm = t["llm"]
    stage_layers = layers / max(pp, 1)

    def compile_time(c: dict) -> float:
        return (c["base_seconds"] + c["per_layer_seconds"] * stage_layers) * (c["moe_factor"] if moe else 1.0)

    graphs = llm["cuda_graphs"]["base_seconds"] + llm["cuda_graphs"]["per_layer_tp_seconds"] * stage_layers * tp
    common = {"load": load, "process": llm["process_seconds"], "cudaGraphs": graphs,
              "profileAndKvCache": llm["profile_and_kv_seconds"]}
    first = {"imagePull": pull, "download": download, **common, "torchCompile": compile_time(llm["compile_cold"])}
    warm = {"imagePull": image["cached_seconds"], "download": 0.0, **common,
            "torchCompile": compile_time(llm["compile_warm"])}
    return ColdStart(first, warm)
