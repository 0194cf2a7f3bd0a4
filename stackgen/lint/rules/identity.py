"""What the API server refuses before any schema: an object without a usable name, a
workload without a pod template, a replica count no integer field holds. JSON schemas of
Kubernetes kinds let these through (metadata and template are nullable there, names have
no pattern, int32 has no bounds), and generic linters with them."""

from __future__ import annotations

import re
from typing import Iterator

from stackgen.lint.loader import LintObject
from stackgen.lint.model import Hit
from stackgen.lint.registry import rule

SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
INT32_MAX = 2**31 - 1
#: kinds whose names must be DNS-1123 labels (63 characters), not subdomains
LABEL_NAMED = {"Namespace", "Service", "InferenceService", "LeaderWorkerSet", "StatefulSet"}
TEMPLATED = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
#: where replica counts live (int32 fields), by kind
REPLICAS = {"Deployment": [("spec", "replicas")], "StatefulSet": [("spec", "replicas")],
            "ReplicaSet": [("spec", "replicas")], "LeaderWorkerSet": [("spec", "replicas")],
            "HorizontalPodAutoscaler": [("spec", "minReplicas"), ("spec", "maxReplicas")],
            "InferenceService": [("spec", "predictor", "minReplicas"),
                                 ("spec", "predictor", "maxReplicas")]}


def _printable(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@rule("SG005", "object-invalid", "error", kinds=("*",), target="object",
      description="The API server would refuse the object before its schema: no name, a name "
                  "that is not a DNS-1123 name, `metadata` or a workload's pod `template` "
                  "null, or a replica count outside a 32-bit integer.",
      anti_pattern="A templating slip (`name: \"{{ .Release.Name }}\\n-chat\"`, "
                   "`metadata:` left empty, `replicas: 1e40`) passes JSON-schema checks, "
                   "whose Kubernetes schemas allow null objects and unbounded integers, and "
                   "fails only at `kubectl apply`.",
      best_practice="Lint what will be applied, and keep names lower-case DNS names.",
      remediation="Give the object a lower-case DNS-1123 name (letters, digits, '-', at most "
                  "63 characters for Services, Namespaces and InferenceServices), a pod "
                  "template, and replica counts between 0 and 2147483647.")
def object_invalid(obj: LintObject, ctx: dict) -> Iterator[Hit]:
    data, kind = obj.data, obj.kind  # obj.kind: a string whatever the file says
    meta = data.get("metadata")
    if not isinstance(meta, dict):
        yield Hit(("metadata",), f"metadata is {_printable(meta)}, not a mapping with a name")
        return
    name = meta.get("name")
    if name is None and not meta.get("generateName"):
        yield Hit(("metadata",), "metadata has no name (nor generateName)")
    elif name is not None:
        pattern, limit = (LABEL, 63) if kind in LABEL_NAMED else (SUBDOMAIN, 253)
        if not isinstance(name, str) or len(name) > limit or not pattern.fullmatch(name):
            yield Hit(("metadata", "name"), f"name {_printable(name)} is not a DNS-1123 "
                                            f"{'label' if limit == 63 else 'subdomain'} "
                                            f"(lower-case letters, digits, '-', at most {limit})")
    namespace = meta.get("namespace")
    if namespace is not None and (not isinstance(namespace, str) or len(namespace) > 63
                                  or not LABEL.fullmatch(namespace)):
        yield Hit(("metadata", "namespace"), f"namespace {_printable(namespace)} is not a "
                                             "DNS-1123 label")
    spec = data.get("spec")
    if kind in TEMPLATED and isinstance(spec, dict) and "template" in spec \
            and not isinstance(spec["template"], dict):
        yield Hit(("spec", "template"), f"spec.template is {_printable(spec['template'])}: "
                                        "the workload has no pod to run")
    for path in REPLICAS.get(kind, []):
        node = data
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, bool) or not isinstance(node, int):
            continue
        if not 0 <= node <= INT32_MAX:
            yield Hit(path, f"{'.'.join(path)} is {_printable(node)}, outside 0..{INT32_MAX} "
                            "(a 32-bit integer field)")
