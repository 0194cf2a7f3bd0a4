"""Preflight before apply: the cluster is reachable, serves every kind in the folder, and
has GPU nodes whose labels and taints match each workload, with enough allocatable GPUs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stackgen import capacity
from stackgen.cluster.kube import Kube
from stackgen.cluster.manifests import Ref

INSTALL_HINT = {
    "serving.kserve.io": "install KServe",
    "leaderworkerset.x-k8s.io": "install the LeaderWorkerSet controller",
    "keda.sh": "install KEDA",
    "monitoring.coreos.com": "install the Prometheus operator",
}


@dataclass
class Preflight:
    version: str = ""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def pod_templates(obj: dict[str, Any]) -> list[tuple[dict, int]]:
    """(pod spec, minimum pods) of a workload; KServe predictors count as pod specs."""
    kind, spec = obj["kind"], obj.get("spec") or {}
    if kind in ("Deployment", "StatefulSet"):
        return [(spec["template"]["spec"], int(spec.get("replicas", 1)))]
    if kind == "LeaderWorkerSet":
        lwt = spec["leaderWorkerTemplate"]
        groups = int(spec.get("replicas", 1))
        out = [(lwt["workerTemplate"]["spec"], groups * (int(lwt.get("size", 1)) - 1))]
        if "leaderTemplate" in lwt:
            out.append((lwt["leaderTemplate"]["spec"], groups))
        return out
    if kind == "InferenceService":
        predictor = spec.get("predictor") or {}
        model = predictor.get("model") or {}
        pod = dict(predictor, containers=[model] if model else predictor.get("containers", []))
        return [(pod, max(int(predictor.get("minReplicas", 1)), 1))]
    return []


def _gpu_request(pod: dict) -> tuple[str, int] | None:
    """(resource, units) the pod's containers ask for together (extended resources are
    whole numbers; one the apiserver would reject is left to it)."""
    asked: dict[str, int] = {}
    for container in pod.get("containers") or []:
        for name, value in ((container.get("resources") or {}).get("limits") or {}).items():
            if name.startswith("nvidia.com/") and str(value).isdigit():
                asked[name] = asked.get(name, 0) + int(str(value))
    return next(((n, v) for n, v in asked.items() if v), None)


def tolerates(tolerations: list[dict], taint: dict) -> bool:
    for tol in tolerations:
        if tol.get("effect") not in (None, "", taint.get("effect")):
            continue
        if tol.get("operator") == "Exists" and tol.get("key") in (None, taint["key"]):
            return True
        if tol.get("key") == taint["key"] and tol.get("value") == taint.get("value"):
            return True
    return False


def matching_nodes(pod: dict, nodes: list[dict]) -> list[dict]:
    selector = pod.get("nodeSelector") or {}
    tolerations = pod.get("tolerations") or []
    out = []
    for node in nodes:
        labels = node["metadata"].get("labels") or {}
        if any(labels.get(k) != v for k, v in selector.items()):
            continue
        taints = [t for t in (node.get("spec") or {}).get("taints") or []
                  if t.get("effect") in ("NoSchedule", "NoExecute")]
        if all(tolerates(tolerations, t) for t in taints):
            out.append(node)
    return out


def _allocatable(node: dict, resource: str) -> int:
    try:
        return int(str(((node.get("status") or {}).get("allocatable") or {}).get(resource, 0)))
    except ValueError:  # a quantity such as "1k": not a GPU count stackgen can judge
        return 0


def _check_gpus(obj: dict, nodes: list[dict]) -> list[str]:
    out = []
    for pod, count in pod_templates(obj):
        gpu = _gpu_request(pod)
        if not gpu or not count:
            continue
        resource, per_pod = gpu
        fit = matching_nodes(pod, nodes)
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        if not fit:
            out.append(f"{name}: no node matches nodeSelector {pod.get('nodeSelector') or {}} "
                       "with its taints tolerated; its pods will stay Pending")
            continue
        units = [_allocatable(n, resource) for n in fit]
        room = capacity.pods_that_fit(units, per_pod)  # a pod's GPUs must be on one node
        if room < count:
            out.append(f"{name}: needs {count} pod(s) of {per_pod} {resource}; the {len(fit)} "
                       f"matching node(s) have {'+'.join(map(str, units))} allocatable, room "
                       f"for {room} such pod(s)")
    return out


def preflight(kube: Kube, objects: list[dict]) -> Preflight:
    report = Preflight(version=kube.version())
    seen: set[tuple[str, str]] = set()
    for obj in objects:
        key = (obj["apiVersion"], obj["kind"])
        if key in seen:
            continue
        seen.add(key)
        if kube.resource(*key) is None:
            group = key[0].split("/")[0] if "/" in key[0] else ""
            hint = INSTALL_HINT.get(group, "install the CRD that defines it")
            report.errors.append(f"{key[1]} ({key[0]}) is not served by the cluster: {hint}")
    namespaces = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
    for ns in sorted({Ref.of(o).namespace for o in objects} - namespaces - {None}):
        if kube.request("GET", f"/api/v1/namespaces/{ns}", ok_missing=True) is None:
            report.errors.append(f"namespace {ns} does not exist and is not in the folder: "
                                 f"create it (kubectl create namespace {ns})")
    report.errors += _kserve_prerequisites(kube, objects)
    report.warnings += _storage_secrets(kube, [o for o in objects if o["kind"] == "InferenceService"])
    nodes = (kube.request("GET", "/api/v1/nodes") or {}).get("items", [])
    for obj in objects:
        report.warnings += _check_gpus(obj, nodes)
    return report


KNATIVE_MODES = {"Serverless", "Knative"}


def kserve_mode(obj: dict) -> str:
    """An InferenceService's deployment mode as KServe resolves it from the annotation
    (a missing one is the cluster's default, which stackgen never relies on)."""
    return ((obj.get("metadata") or {}).get("annotations") or {}).get(
        "serving.kserve.io/deploymentMode", "")


def _storage_secrets(kube: Kube, isvcs: list[dict]) -> list[str]:
    """KServe's pod webhook refuses to create the pods of an InferenceService whose storage
    secret is missing, so its Deployment stays at 0 pods until the Secret exists."""
    out = []
    for obj in isvcs:
        name = ((obj["metadata"].get("annotations") or {}).get("serving.kserve.io/storageSecretName"))
        namespace = obj["metadata"].get("namespace") or "default"
        if not name:
            continue
        secret = kube.request("GET", f"/api/v1/namespaces/{namespace}/secrets/{name}", ok_missing=True)
        if secret is None or "HF_TOKEN" not in (secret.get("data") or {}):
            what = "does not exist" if secret is None else "has no HF_TOKEN key"
            out.append(
                f"InferenceService {obj['metadata']['name']}: its storage secret {namespace}/{name} "
                f"{what}, and KServe will not create its pods until it does (its storage "
                f"initializer reads the Hugging Face token there): kubectl create secret generic "
                f"{name} -n {namespace} --from-literal=HF_TOKEN=<token> --from-literal=token=<token> "
                "(an empty token serves public models)")
    return out


def _kserve_prerequisites(kube: Kube, objects: list[dict]) -> list[str]:
    """What KServe needs in the cluster for the modes and autoscalers the folder asks for;
    without it KServe accepts the InferenceService and it never becomes Ready."""
    isvcs = [o for o in objects if o["kind"] == "InferenceService"]
    out = []
    knative = [o["metadata"]["name"] for o in isvcs if kserve_mode(o) in KNATIVE_MODES]
    if knative and kube.resource("serving.knative.dev/v1", "Service") is None:
        out.append(
            f"InferenceService {', '.join(knative)} use KServe's Serverless (Knative) mode, which "
            "canary rollouts and scale-to-zero need, but the cluster serves no Knative Services "
            "(serving.knative.dev/v1): install Knative Serving and a networking layer "
            "(KServe's serverless install), or drop canary and scaleToZero from the stack to "
            "render Standard mode")
    keda = [o["metadata"]["name"] for o in isvcs
            if ((o["metadata"].get("annotations") or {}).get("serving.kserve.io/autoscalerClass")
                == "keda")]
    if keda and kube.resource("keda.sh/v1alpha1", "ScaledObject") is None:
        out.append(
            f"InferenceService {', '.join(keda)} scale with KEDA (KServe's Standard mode scales "
            "on the engine's metrics only through KEDA), but the cluster serves no ScaledObjects "
            "(keda.sh/v1alpha1): install KEDA")
    return out
