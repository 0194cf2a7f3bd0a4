"""General container hygiene that matters most for GPU servers."""

from __future__ import annotations

import re
from typing import Iterator

from stackgen.lint.model import Hit
from stackgen.lint.registry import rule
from stackgen.lint.rules._util import arg_path
from stackgen.lint.workloads import WORKLOAD_KINDS, PodTemplate, mapping, seq

SECRET_NAME = re.compile(r"(^|_)(TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)($|_)"
                         r"|(API|ACCESS|PRIVATE|SECRET)_?KEY($|_)")


@rule("SG401", "secret-literal-env", "error", kinds=WORKLOAD_KINDS,
      description="A token, key or password is written in the manifest in plain text.",
      anti_pattern="`env: [{name: HF_TOKEN, value: hf_...}]` or `--api-key sk-...` in args: the "
                   "secret lands in git, in `kubectl get -o yaml` and in every log of the manifest.",
      best_practice="Keep secrets in a Secret and reference them with `valueFrom.secretKeyRef` "
                    "(or `envFrom.secretRef`).",
      remediation="Create a Secret and replace `value:` with `valueFrom: {secretKeyRef: {name: ..., key: ...}}`.")
def secret_literal_env(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    for c in pod.containers + pod.init_containers:
        for i, env in enumerate(seq(c.data.get("env"))):
            env = mapping(env)
            name, value = str(env.get("name", "")), env.get("value")
            if SECRET_NAME.search(name.upper()) and value not in (None, "") \
                    and not str(value).startswith("$("):
                yield Hit(c.path + ("env", i, "value"),
                          f"container {c.name} sets {name} to a literal value")
        server = c.server
        key = server.options.get("api-key") if server else None
        if isinstance(key, str) and key and not key.startswith("$"):
            yield Hit(arg_path(c, "api-key", "api_key"),
                      f"container {c.name} passes --api-key as a literal argument")


def _tag(image: str) -> str | None:
    if "@" in image:
        return "@digest"
    last = image.rpartition("/")[2]
    return last.partition(":")[2] or None


@rule("SG402", "image-latest-tag", "warning", kinds=WORKLOAD_KINDS,
      description="A container image has no tag or the `latest` tag.",
      anti_pattern="`vllm/vllm-openai:latest`: every node pull may get a different vLLM, with "
                   "different flags and defaults, and a rollback goes nowhere.",
      best_practice="Pin a release tag (`vllm/vllm-openai:v0.10.1`) or a digest.",
      remediation="Replace the tag with a version (or `@sha256:` digest).")
def image_latest_tag(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    for c in pod.containers + pod.init_containers:
        image = c.data.get("image")
        if isinstance(image, str) and image and _tag(image) in (None, "latest"):
            yield Hit(c.path + ("image",), f"container {c.name} uses {image} (no pinned tag)")


@rule("SG403", "host-namespace", "warning", kinds=WORKLOAD_KINDS,
      description="The pod shares the node's network, PID or IPC namespace.",
      anti_pattern="`hostIPC: true` as a /dev/shm workaround or `hostNetwork: true` for NCCL: "
                   "the pod sees every process and port of the node and ports collide between replicas.",
      best_practice="Use an emptyDir /dev/shm and the pod network; if RDMA needs the host "
                    "network, suppress this rule on that object with a reason.",
      remediation="Remove hostNetwork/hostPID/hostIPC (or add `lint.stackgen.dev/ignore: host-namespace`).")
def host_namespace(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.spec.get(field) is True:
            yield Hit(pod.path + (field,), f"{pod.label} sets {field}: true")


@rule("SG404", "missing-resources", "warning",
      kinds=("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob",
             "LeaderWorkerSet", "InferenceService", "LLMInferenceService"),
      description="A container sets no CPU or no memory request/limit.",
      anti_pattern="A model server with no memory request is scheduled next to others on a node "
                   "whose RAM cannot hold the weights while they load, and gets OOM-killed or "
                   "evicted first.",
      best_practice="Request CPU and memory for every container; set a memory limit with room "
                    "for the weights' host copy and /dev/shm.",
      remediation="Add resources.requests (cpu, memory) and resources.limits (memory).")
def missing_resources(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    for c in pod.containers:
        if "resources" in c.inherits:
            continue  # KServe's preset gives it resources (an LLMInferenceService's router pods)
        given = {**c.resources("limits"), **c.resources("requests")}
        missing = [r for r in ("cpu", "memory") if r not in given]
        if missing:
            where = c.path + ("resources",) if "resources" in c.data else c.path + ("name",)
            yield Hit(where, f"container {c.name} sets no {' or '.join(missing)} request or limit")
