"""Server-side apply of a rendered folder: preflight, diff (server-side dry run), apply in
dependency order with field manager `stackgen`, an inventory of what was applied, and a
prune that deletes only what the previous inventory holds and the folder no longer does."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field

from stackgen.yamlio import dump

from stackgen.cluster.kube import APPLY_PATCH, ClusterError, Kube
from stackgen.cluster.manifests import Ref, rank
from stackgen.render.names import base_labels, safe_name

FIELD_MANAGER = "stackgen"
OWNER = "stackgen.dev/inventory"
VOLATILE_META = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp",
                 "selfLink")


@dataclass
class Outcome:
    created: list[str] = field(default_factory=list)
    configured: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    diff: str = ""


def inventory_name(stack: str) -> str:
    return safe_name("stackgen-inventory", stack)


def stamp(objects: list[dict], stack: str, namespace: str) -> list[dict]:
    """Mark every object with the inventory that owns it (prune checks the mark)."""
    out = []
    for obj in objects:
        obj = json.loads(json.dumps(obj))
        if obj["kind"] != "Namespace":  # namespaces may be shared by stacks: never owned
            obj["metadata"].setdefault("annotations", {})[OWNER] = f"{namespace}/{stack}"
        out.append(obj)
    return out


STABLE_SOURCE = "stackgen.dev/stable-source"


def first_install_without_canary(kube: Kube, objects: list[dict]) -> tuple[list[dict], list[str]]:
    """A canary InferenceService that is not in the cluster yet is applied as its stable
    model with no canary: KServe sends a new InferenceService's first revision 100% of the
    traffic whatever canaryTrafficPercent says, so the canary would take it all. The next
    apply (the InferenceService now exists) starts the canary at its percentage. Returns the
    objects to apply and a note per InferenceService held back."""
    out, notes = [], []
    for obj in objects:
        predictor = ((obj.get("spec") or {}).get("predictor") or {})
        stable = ((obj.get("metadata") or {}).get("annotations") or {}).get(STABLE_SOURCE)
        if obj.get("kind") != "InferenceService" or not stable or "canaryTrafficPercent" not in predictor:
            out.append(obj)
            continue
        ref = Ref.of(obj)
        res = kube.resource(ref.api_version, ref.kind)
        if res and kube.request("GET", kube.path(res, ref.namespace, ref.name), ok_missing=True):
            out.append(obj)
            continue
        held = json.loads(json.dumps(obj))
        held_predictor = held["spec"]["predictor"]
        percent = held_predictor.pop("canaryTrafficPercent")
        model = held_predictor.get("model") or {}
        canary = model.get("storageUri")
        model["storageUri"] = stable
        out.append(held)
        notes.append(f"InferenceService/{ref.name}: first install, so the stable model ({stable}) "
                     f"takes all traffic; apply again to start the canary ({canary}) at {percent}%")
    return out, notes


# -- inventory ----------------------------------------------------------------------------
def read_inventory(kube: Kube, stack: str, namespace: str) -> list[Ref]:
    cm = kube.request("GET", f"/api/v1/namespaces/{namespace}/configmaps/{inventory_name(stack)}",
                      ok_missing=True)
    if not cm:
        return []
    return [Ref(r["apiVersion"], r["kind"], r.get("namespace"), r["name"])
            for r in json.loads((cm.get("data") or {}).get("objects.json", "[]"))]


def write_inventory(kube: Kube, stack: str, namespace: str, refs: list[Ref]) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": inventory_name(stack), "namespace": namespace,
                         "labels": {**base_labels(stack), OWNER: "true"}},
            "data": {"objects.json": json.dumps(sorted((r.to_json() for r in refs),
                                                       key=lambda r: json.dumps(r, sort_keys=True)),
                                                indent=1, sort_keys=True)}}
    path = f"/api/v1/namespaces/{namespace}/configmaps/{inventory_name(stack)}"
    kube.request("PATCH", path, body, {"fieldManager": FIELD_MANAGER, "force": "true"}, APPLY_PATCH)


# -- diff ---------------------------------------------------------------------------------
def _strip(obj: dict) -> dict:
    """The object without status and the metadata the server maintains."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in VOLATILE_META}
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": meta}


def _normal(obj: dict | None) -> str:
    if obj is None:
        return ""
    return dump(_strip(obj))


def _apply_one(kube: Kube, obj: dict, *, dry_run: bool, force: bool) -> tuple[dict | None, dict]:
    """(live before, result) of a server-side apply of one object."""
    ref = Ref.of(obj)
    res = kube.resource(ref.api_version, ref.kind)
    if res is None:
        raise ClusterError(f"{ref.kind} ({ref.api_version}) is not served by the cluster")
    live = kube.request("GET", kube.path(res, ref.namespace, ref.name), ok_missing=True)
    if live is not None and ref.kind == "Namespace":
        return live, live  # created when missing, never updated: stacks may share it
    query = {"fieldManager": FIELD_MANAGER, "force": "true" if force else "false"}
    if dry_run:
        query["dryRun"] = "All"
    result = kube.request("PATCH", kube.path(res, ref.namespace, ref.name), obj, query, APPLY_PATCH)
    return live, result or {}


def _label(ref: Ref) -> str:
    return f"{ref.kind}/{ref.name}" + (f" ({ref.namespace})" if ref.namespace else "")


def _conflict_text(err: ClusterError, ref: Ref) -> str:
    causes = (getattr(err, "details", None) or {}).get("details", {}).get("causes") or []
    fields = "; ".join(c.get("message", c.get("field", "")) for c in causes) or str(err)
    return f"{_label(ref)}: {fields}"


PARALLEL = 8  # objects of one kind rank are independent: apply them concurrently


def apply_objects(kube: Kube, objects: list[dict], *, dry_run: bool, force_conflicts: bool) -> Outcome:
    """Apply (or dry-run) rank by rank; conflicts are collected, not forced."""
    from concurrent.futures import ThreadPoolExecutor
    from itertools import groupby

    out = Outcome()
    chunks: list[str] = []
    pending = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}

    def one(obj: dict):
        try:
            return obj, _apply_one(kube, obj, dry_run=dry_run, force=force_conflicts), None
        except ClusterError as err:
            return obj, None, err

    ordered = sorted(objects, key=lambda o: rank(o["kind"]))
    with ThreadPoolExecutor(PARALLEL) as pool:
        for _, group in groupby(ordered, key=lambda o: rank(o["kind"])):
            for obj, applied, err in pool.map(one, list(group)):  # results in input order
                _record(out, chunks, Ref.of(obj), applied, err, dry_run, pending)
    out.diff = "".join(chunks)
    return out


def _record(out: Outcome, chunks: list[str], ref: Ref, applied, err: ClusterError | None,
            dry_run: bool, pending_namespaces: set[str]) -> None:
    if err is not None:
        if getattr(err, "status", None) == 409:
            out.conflicts.append(_conflict_text(err, ref))
            return
        if dry_run and getattr(err, "status", None) == 404 and ref.namespace in pending_namespaces:
            out.created.append(_label(ref))  # its namespace is created by this apply
            return
        raise err
    live, result = applied
    if live is None:
        out.created.append(_label(ref))
    elif not dry_run:  # a no-op server-side apply keeps the resourceVersion
        same = live["metadata"].get("resourceVersion") == result.get("metadata", {}).get("resourceVersion")
        (out.unchanged if same else out.configured).append(_label(ref))
        return
    elif _strip(live) == _strip(result):
        out.unchanged.append(_label(ref))
        return
    else:
        out.configured.append(_label(ref))
    if dry_run:  # only the dry-run pass's diff is shown
        before, after = _normal(live), _normal(result)
        chunks += difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                       f"live/{_label(ref)}", f"rendered/{_label(ref)}")


# -- prune and delete ---------------------------------------------------------------------
def delete_refs(kube: Kube, refs: list[Ref], owner: str) -> list[str]:
    """Delete objects that still carry our inventory mark; skip anything else."""
    deleted = []
    for ref in sorted(refs, key=lambda r: -rank(r.kind)):
        res = kube.resource(ref.api_version, ref.kind)
        if res is None or ref.kind == "Namespace":
            continue  # namespaces are kept: they may hold what stackgen never applied
        path = kube.path(res, ref.namespace, ref.name)
        live = kube.request("GET", path, ok_missing=True)
        if live is None:
            continue
        if (live["metadata"].get("annotations") or {}).get(OWNER) != owner:
            continue  # recreated by someone else since: not ours to delete
        kube.request("DELETE", path, {"propagationPolicy": "Foreground"}, ok_missing=True)
        deleted.append(_label(ref))
    return deleted


def apply_stack(kube: Kube, objects: list[dict], stack: str, namespace: str, *,
                dry_run: bool = False, prune: bool = False, force_conflicts: bool = False) -> Outcome:
    """The whole apply: inventory first (so an interrupted run can be re-run), then objects,
    then prune, then the final inventory."""
    owner = f"{namespace}/{stack}"
    objects = stamp(objects, stack, namespace)
    current = [Ref.of(o) for o in objects]
    previous = [] if dry_run else read_inventory(kube, stack, namespace)
    if not dry_run:
        _ensure_namespace(kube, objects, namespace)
        union = {r.key: r for r in previous + current}
        write_inventory(kube, stack, namespace, list(union.values()))
    out = apply_objects(kube, objects, dry_run=dry_run, force_conflicts=force_conflicts)
    if dry_run or out.conflicts:
        return out
    keep = {r.key for r in current}
    gone = [r for r in previous if r.key not in keep]
    if prune:
        out.pruned = delete_refs(kube, gone, owner)
    write_inventory(kube, stack, namespace, current if prune else
                    list({r.key: r for r in current + gone}.values()))
    return out


def _ensure_namespace(kube: Kube, objects: list[dict], namespace: str) -> None:
    """The inventory lives in the stack's namespace: create it first when rendered."""
    ns = next((o for o in objects if o["kind"] == "Namespace" and o["metadata"]["name"] == namespace), None)
    path = f"/api/v1/namespaces/{namespace}"
    if ns is not None and kube.request("GET", path, ok_missing=True) is None:
        kube.request("PATCH", path, ns, {"fieldManager": FIELD_MANAGER, "force": "false"}, APPLY_PATCH)


def delete_stack(kube: Kube, stack: str, namespace: str) -> list[str]:
    """Delete exactly what the inventory lists, then the inventory."""
    refs = read_inventory(kube, stack, namespace)
    deleted = delete_refs(kube, refs, f"{namespace}/{stack}")
    kube.request("DELETE", f"/api/v1/namespaces/{namespace}/configmaps/{inventory_name(stack)}",
                 ok_missing=True)
    return deleted

