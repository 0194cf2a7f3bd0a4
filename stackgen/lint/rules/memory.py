"""Shared memory and model cache volumes of model servers."""

from __future__ import annotations

from typing import Iterator

from stackgen.lint.model import Hit
from stackgen.lint.registry import rule
from stackgen.lint.rules._util import vllm_like, servers, shm_mount
from stackgen.lint.workloads import SPELLED_OUT_KINDS, Container, PodTemplate, mapping, seq



def _needs_shm(pod: PodTemplate, c: Container) -> bool:
    server = c.server
    if server is not None and server.kind in vllm_like() and (server.world_size() or 1) > 1:
        return True
    return c.gpus() > 1 and (server is not None or pod.kind == "LeaderWorkerSet")


@rule("SG201", "shm-missing", "error", kinds=SPELLED_OUT_KINDS,
      description="A multi-GPU model server has no memory-backed /dev/shm.",
      anti_pattern="Container runtimes give /dev/shm 64 MiB; NCCL and vLLM's tensor-parallel "
                   "workers exchange data through it, so TP>1 crashes with 'Bus error' or "
                   "hangs at the first all-reduce.",
      best_practice="Mount an `emptyDir: {medium: Memory, sizeLimit: ...}` volume at /dev/shm.",
      remediation="Add a volume `{name: dshm, emptyDir: {medium: Memory, sizeLimit: 16Gi}}` and "
                  "mount it at /dev/shm in the server container.")
def shm_missing(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    if pod.spec.get("hostIPC") is True:
        return
    for c in pod.containers:
        if _needs_shm(pod, c) and shm_mount(c) is None:
            where = c.path + ("volumeMounts",) if "volumeMounts" in c.data else c.path + ("name",)
            yield Hit(where, f"container {c.name} runs on {max(c.gpus(), 2)} GPUs but mounts nothing at /dev/shm")


@rule("SG202", "shm-size-limit-missing", "warning", kinds=SPELLED_OUT_KINDS,
      description="The memory-backed /dev/shm volume has no sizeLimit.",
      anti_pattern="An unbounded `emptyDir: {medium: Memory}` counts against the container's "
                   "memory limit, so a burst of shared memory gets the model server OOM-killed "
                   "with no hint why (or, without a limit, eats the node's RAM).",
      best_practice="Bound /dev/shm with `sizeLimit` and leave room for it in the memory limit.",
      remediation="Set `emptyDir.sizeLimit` (e.g. 16Gi for 8-way tensor parallelism).")
def shm_size_limit_missing(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    shm_volumes = {str(m.get("name")) for c in pod.containers if (m := shm_mount(c))}
    for i, volume in enumerate(seq(pod.spec.get("volumes"))):
        volume = mapping(volume)
        empty = volume.get("emptyDir")
        if str(volume.get("name")) in shm_volumes and isinstance(empty, dict) \
                and empty.get("medium") == "Memory" and not empty.get("sizeLimit"):
            yield Hit(pod.path + ("volumes", i, "emptyDir"),
                      f"volume {volume.get('name')} (/dev/shm) is memory-backed without a sizeLimit")


CACHE_ENV = ("HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "TRANSFORMERS_CACHE")
DEFAULT_CACHE = "/root/.cache/huggingface"


def _downloads(model: str | None) -> bool:
    if not model or model.startswith(("/", "./", "s3://", "gs://", "pvc://", "oci://", "file:")):
        return False
    return model.startswith("hf://") or model.count("/") == 1 and " " not in model


def _cache_dirs(c: Container) -> list[str]:
    env = c.env_literals()
    dirs = [env[k] for k in CACHE_ENV if k in env]
    download = c.server.options.get("download-dir") if c.server else None
    if isinstance(download, str):
        dirs.append(download)
    return dirs or [DEFAULT_CACHE]


def _has_storage(pod: PodTemplate) -> bool:
    model = mapping(pod.spec.get("model"))
    return bool(pod.spec.get("storageUri") or model.get("storageUri") or model.get("storage"))


@rule("SG501", "model-cache-missing", "warning", kinds=SPELLED_OUT_KINDS,
      description="A vLLM server downloads its model from the Hugging Face Hub into the "
                  "container's own filesystem.",
      anti_pattern="No volume at the HF cache: every restart, reschedule and scale-up downloads "
                   "the weights again (tens of GB, minutes to hours, rate limits), and the "
                   "weights fill the node's ephemeral storage until the pod is evicted.",
      best_practice="Mount a PersistentVolumeClaim (or a node-local cache) at HF_HOME / "
                    "--download-dir, or serve from a pre-populated path.",
      remediation="Mount a volume at /root/.cache/huggingface (or set HF_HOME to a mounted path).")
def model_cache_missing(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    if _has_storage(pod):
        return
    for c in servers(pod, vllm_like()):
        if not _downloads(c.server.model):
            continue
        mounts = [str(m.get("mountPath", "")).rstrip("/") for m in c.mounts()]
        dirs = [d.rstrip("/") for d in _cache_dirs(c)]
        if not any(d == m or d.startswith(m + "/") for d in dirs for m in mounts
                   if m and m != "/dev/shm"):
            yield Hit(c.path + ("name",), f"container {c.name} downloads {c.server.model} with no "
                                          f"volume at {_cache_dirs(c)[0]}")
