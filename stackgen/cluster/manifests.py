"""Objects of a rendered folder, in apply order, and the stack they belong to."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stackgen.errors import InputError

#: Apply order by kind (CRDs, namespaces, config, RBAC, storage, workloads, autoscalers);
#: unknown kinds go after workloads. Delete runs in reverse.
KIND_RANK = {
    "CustomResourceDefinition": 0, "Namespace": 1, "ServiceAccount": 2, "Secret": 3,
    "ConfigMap": 3, "ClusterRole": 4, "Role": 4, "ClusterRoleBinding": 5, "RoleBinding": 5,
    "StorageClass": 6, "PersistentVolume": 6, "PersistentVolumeClaim": 7,
    "ServingRuntime": 8, "ClusterServingRuntime": 8, "Service": 9, "NetworkPolicy": 9,
    "Deployment": 10, "StatefulSet": 10, "LeaderWorkerSet": 10, "InferenceService": 10,
    "PodDisruptionBudget": 11, "HorizontalPodAutoscaler": 12, "ScaledObject": 12,
    "ServiceMonitor": 12,
}
PART_OF = "app.kubernetes.io/part-of"


@dataclass(frozen=True)
class Ref:
    api_version: str
    kind: str
    namespace: str | None
    name: str

    @property
    def key(self) -> str:
        return f"{self.api_version}/{self.kind}/{self.namespace or ''}/{self.name}"

    def to_json(self) -> dict[str, Any]:
        return {"apiVersion": self.api_version, "kind": self.kind, "namespace": self.namespace,
                "name": self.name}

    @staticmethod
    def of(obj: dict[str, Any]) -> Ref:
        meta = obj["metadata"]
        return Ref(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"])


def rank(kind: str) -> int:
    return KIND_RANK.get(kind, 10)


def load_folder(folder: Path) -> list[dict[str, Any]]:
    """Every object the folder's kustomization lists (or every *.yaml), in apply order."""
    from stackgen.yamlio import YamlError, read, read_all

    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder", file=str(folder),
                         fix="pass the folder `stackgen render -o DIR` wrote")
    kustomization = folder / "kustomization.yaml"
    if kustomization.is_file():
        try:
            listed = (read(kustomization) or {}).get("resources") or []
        except YamlError as err:
            raise err.input_error("fix or re-render it") from None
        files = [folder / rel for rel in listed]
    else:
        files = sorted(p for p in folder.rglob("*.yaml") if "overlays" not in p.parts)
    objects: list[dict[str, Any]] = []
    for path in files:
        if not path.is_file():
            raise InputError(f"{path} is listed in kustomization.yaml but missing",
                             file=str(kustomization), fix="render the folder again")
        try:
            docs = [d for d in read_all(path) if d]
        except YamlError as err:
            raise err.input_error("fix or re-render it", file=str(path)) from None
        for doc in docs:
            if not (isinstance(doc, dict) and doc.get("apiVersion") and doc.get("kind")
                    and isinstance(doc.get("metadata"), dict) and doc["metadata"].get("name")):
                raise InputError("not a Kubernetes object (apiVersion, kind, metadata.name)",
                                 file=str(path), fix="remove it from the folder")
            objects.append(doc)
    if not objects:
        raise InputError(f"{folder} holds no objects", file=str(folder),
                         fix="render a stack into it first")
    return sorted(objects, key=lambda o: rank(o["kind"]))


def stack_identity(objects: list[dict[str, Any]]) -> tuple[str, str]:
    """(stack name, namespace) of a rendered folder, from its ownership labels."""
    names = {(o["metadata"].get("labels") or {}).get(PART_OF) for o in objects}
    names.discard(None)
    if len(names) != 1:
        raise InputError(f"the folder's objects belong to {len(names)} stacks "
                         f"({', '.join(sorted(names)) or 'none'}); label {PART_OF!r} must name one",
                         fix="apply one rendered stack at a time")
    spaces = {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"}
    spaces.discard(None)
    return names.pop(), (sorted(spaces)[0] if spaces else "default")
