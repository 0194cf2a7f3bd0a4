"""Wait for rollouts: Deployments (and LeaderWorkerSets, InferenceServices where a
controller reconciles them) until ready, with a progress display; on timeout, say which
pods are Pending and why, from the scheduler's events."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stackgen.cluster.kube import Kube
from stackgen.cluster.manifests import Ref

WAITABLE = ("Deployment", "StatefulSet", "LeaderWorkerSet", "InferenceService")
NO_CONTROLLER_AFTER = 20.0  # seconds without any status: nothing reconciles the kind


@dataclass
class Progress:
    ref: Ref
    ready: int
    desired: int
    done: bool
    note: str = ""


def _conditions(obj: dict) -> dict[str, str]:
    return {c.get("type"): c.get("status") for c in (obj.get("status") or {}).get("conditions") or []}


# The conditions that say why a controller's object is not ready, most telling first.
_WHY = {"InferenceService": ("PredictorReady", "TransformerReady", "ExplainerReady",
                             "IngressReady", "LatestDeploymentReady", "Ready"),
        "LeaderWorkerSet": ("Available", "UpdateInProgress")}


def condition_note(obj: dict) -> str:
    """`Type=Status: reason: message` of the first telling condition that is not True, e.g.
    `PredictorReady=False: MinimumReplicasUnavailable: ...`; "" when none says more."""
    conditions = {c.get("type"): c for c in (obj.get("status") or {}).get("conditions") or []}
    for kind in _WHY.get(obj.get("kind", ""), ()):
        c = conditions.get(kind)
        if c is None or c.get("status") == "True":
            continue
        detail = ": ".join(x for x in (c.get("reason"), (c.get("message") or "")[:300]) if x)
        return f"{kind}={c.get('status')}" + (f": {detail}" if detail else "")
    return ""


def progress_of(obj: dict, waited: float) -> Progress:
    ref, spec, status = Ref.of(obj), obj.get("spec") or {}, obj.get("status") or {}
    if ref.kind in ("Deployment", "StatefulSet"):
        desired = int(spec.get("replicas", 1))
        current = status.get("observedGeneration", 0) >= obj["metadata"].get("generation", 0)
        ready = int(status.get("updatedReplicas", 0) if ref.kind == "Deployment" else status.get("readyReplicas", 0))
        available = int(status.get("availableReplicas", status.get("readyReplicas", 0)) or 0)
        return Progress(ref, min(ready, available), desired, current and min(ready, available) >= desired)
    if not status:
        if waited >= NO_CONTROLLER_AFTER:
            return Progress(ref, 0, 1, True, "no controller reconciles it here (no status); not waited for")
        return Progress(ref, 0, 1, False)
    if ref.kind == "LeaderWorkerSet":
        desired = int(spec.get("replicas", 1))
        ready = int(status.get("readyReplicas", 0))
        done = ready >= desired and _conditions(obj).get("Available") == "True"
        return Progress(ref, ready, desired, done, "" if done else condition_note(obj))
    ready_cond = _conditions(obj).get("Ready") == "True"
    return Progress(ref, int(ready_cond), 1, ready_cond, "" if ready_cond else condition_note(obj))


def pending_reasons(kube: Kube, namespace: str, selector: dict[str, str]) -> list[str]:
    """Why each Pending pod of a workload is not running (FailedScheduling events)."""
    query = {"labelSelector": ",".join(f"{k}={v}" for k, v in selector.items())}
    pods = (kube.request("GET", f"/api/v1/namespaces/{namespace}/pods", query=query) or {}).get("items", [])
    out = []
    for pod in pods:
        name = pod["metadata"]["name"]
        phase = (pod.get("status") or {}).get("phase")
        if phase != "Pending":
            continue
        events = (kube.request("GET", f"/api/v1/namespaces/{namespace}/events", query={
            "fieldSelector": f"involvedObject.name={name}"}) or {}).get("items", [])
        messages = [e.get("message", "") for e in events if e.get("reason") == "FailedScheduling"]
        reason = messages[-1] if messages else "not scheduled yet"
        if "untolerated taint" in reason:
            nodes = (kube.request("GET", "/api/v1/nodes") or {}).get("items", [])
            taints = untolerated_taints(pod.get("spec") or {}, nodes)
            if taints:
                reason += " [untolerated: " + "; ".join(taints) + "]"
        out.append(f"pod {name} is Pending: {reason}")
    return out


def untolerated_taints(pod: dict, nodes: list[dict]) -> list[str]:
    """The taints (with node counts) a pod does not tolerate on the nodes its selector picks:
    the scheduler's message counts such nodes but no longer names the taint."""
    from collections import Counter

    from stackgen.cluster.preflight import tolerates

    selector = pod.get("nodeSelector") or {}
    seen: Counter[str] = Counter()
    for node in nodes:
        labels = node["metadata"].get("labels") or {}
        if any(labels.get(k) != v for k, v in selector.items()):
            continue
        for taint in (node.get("spec") or {}).get("taints") or []:
            if taint.get("effect") in ("NoSchedule", "NoExecute") and \
                    not tolerates(pod.get("tolerations") or [], taint):
                value = f"={taint['value']}" if taint.get("value") else ""
                seen[f"{taint['key']}{value}:{taint['effect']}"] += 1
    return [f"{taint} on {count} node(s)" for taint, count in sorted(seen.items())]


def _selector(obj: dict) -> dict[str, str]:
    spec = obj.get("spec") or {}
    if obj["kind"] in ("Deployment", "StatefulSet"):
        return (spec.get("selector") or {}).get("matchLabels") or {}
    if obj["kind"] == "LeaderWorkerSet":
        return {"leaderworkerset.sigs.k8s.io/name": obj["metadata"]["name"]}
    return {"serving.kserve.io/inferenceservice": obj["metadata"]["name"]}


def wait_for(kube: Kube, objects: list[dict], timeout: float,
             report: Callable[[list[Progress]], None], poll: float = 1.0) -> tuple[bool, list[str]]:
    """Poll until every workload is ready or the timeout passes; (ok, reasons if not)."""
    workloads = [o for o in objects if o["kind"] in WAITABLE]
    start = time.monotonic()
    states: list[Progress] = []
    while True:
        waited = time.monotonic() - start
        states = [progress_of(_live(kube, o) or o | {"status": {}}, waited) for o in workloads]
        report(states)
        if all(s.done for s in states):
            return True, []
        if waited >= timeout:
            break
        time.sleep(poll)
    reasons = []
    for state, obj in zip(states, workloads, strict=True):
        if not state.done:
            note = f" ({state.note})" if state.note else ""
            reasons.append(f"{state.ref.kind}/{state.ref.name}: {state.ready}/{state.desired} ready{note}")
            if state.ref.kind in _WHY:
                reasons += ["  " + r for r in warning_events(kube, state.ref)]
            reasons += ["  " + r for r in pending_reasons(kube, state.ref.namespace or "default",
                                                          _selector(obj))]
    return False, reasons


def warning_events(kube: Kube, ref: Ref, limit: int = 3) -> list[str]:
    """The controller's latest distinct Warning events about one object (KServe says there,
    for one, that Serverless mode was rejected because Knative is missing)."""
    query = {"fieldSelector": f"involvedObject.name={ref.name},involvedObject.kind={ref.kind},"
                              "type=Warning"}
    items = (kube.request("GET", f"/api/v1/namespaces/{ref.namespace or 'default'}/events",
                          query=query) or {}).get("items", [])
    items.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "", reverse=True)
    out: list[str] = []
    for event in items:
        if "the object has been modified" in event.get("message", ""):
            continue  # an optimistic-concurrency retry the controller makes itself
        line = f"{event.get('reason')}: {event.get('message', '')[:300]}"
        if line not in out:
            out.append(line)
    return out[:limit]


def _live(kube: Kube, obj: dict) -> dict[str, Any] | None:
    ref = Ref.of(obj)
    res = kube.resource(ref.api_version, ref.kind)
    return kube.request("GET", kube.path(res, ref.namespace, ref.name), ok_missing=True) if res else None
