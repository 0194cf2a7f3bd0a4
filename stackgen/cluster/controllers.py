"""The controllers of the KServe and multi-node rows, run for real beside a local control
plane: KServe's manager (InferenceServices in Standard mode, its admission webhooks) and the
LeaderWorkerSet controller (groups of leader and worker pods, its webhooks).

`tools/controlplane/build.sh` builds both from the Go module proxy at the versions in
versions.env and keeps, beside each binary, the upstream files it needs from the same module
version (`<name>.files/`): KServe's CRDs, webhook configurations and inferenceservice-config
ConfigMap, and LWS's CRD, webhook configurations and their kustomize patches.

`start_controllers(plane)` serves their webhooks on loopback with a certificate signed by the
sandbox CA, registers the webhook configurations with `url` client configs (there is no
Service to route to: the controllers are processes beside the apiserver, not pods), and adds
the processes to `plane.components`, so stopping the plane (or `stackgen sandbox down`) stops
them too. They run with the sandbox's admin credentials: RBAC is the apiserver's concern and is
not what these tests are about.
"""

from __future__ import annotations

import base64
import copy
import json
import os
from pathlib import Path
from typing import Any

from stackgen.cluster.controlplane_pki import make_serving_cert
from stackgen.cluster.controlplane_proc import Component, free_port, http_ok, wait_until
from stackgen.errors import StackgenError

CONTROLLERS = ("kserve-manager", "lws-controller")
KSERVE_NAMESPACE = "kserve"
LWS_NAMESPACE = "lws-system"
_CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
_HOOKS = "/apis/admissionregistration.k8s.io/v1"
_PLURAL = {"MutatingWebhookConfiguration": "mutatingwebhookconfigurations",
           "ValidatingWebhookConfiguration": "validatingwebhookconfigurations"}

__all__ = ["CONTROLLERS", "KSERVE_NAMESPACE", "LWS_NAMESPACE", "controllers_dir",
           "missing_controllers", "start_controllers"]


def controllers_dir() -> Path:
    """Where build.sh caches the controllers (STACKGEN_CONTROLLERS_DIR overrides)."""
    if os.environ.get("STACKGEN_CONTROLLERS_DIR"):
        return Path(os.environ["STACKGEN_CONTROLLERS_DIR"])
    from stackgen.cluster.controlplane import _cache_root, pinned_versions

    v = pinned_versions()
    return _cache_root() / "controllers" / f"kserve-{v['KSERVE_VERSION']}-lws-{v['LWS_VERSION']}"


def missing_controllers(folder: Path | None = None) -> list[str]:
    """Controllers whose binary or upstream files are not in `folder`."""
    folder = folder or controllers_dir()
    return [n for n in CONTROLLERS
            if not os.access(folder / n, os.X_OK) or not (folder / f"{n}.files").is_dir()]


def _load_all(path: Path) -> list[dict]:
    from stackgen.yamlio import read_all

    return [d for d in read_all(path) if isinstance(d, dict)]


def _json_patch(doc: Any, ops: list[dict]) -> Any:
    """The `replace`/`add` operations of an RFC 6902 patch (what LWS's kustomize patches use)."""
    doc = copy.deepcopy(doc)
    for op in ops:
        if op.get("op") not in ("replace", "add"):
            raise StackgenError(f"unsupported JSON patch operation {op.get('op')!r} in LWS's files")
        *parents, last = [p.replace("~1", "/").replace("~0", "~")
                          for p in op["path"].lstrip("/").split("/")]
        target = doc
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            index = len(target) if last == "-" else int(last)
            if op["op"] == "add":
                target.insert(index, op["value"])
            else:
                target[index] = op["value"]
        else:
            target[last] = op["value"]
    return doc


def _webhooks(docs: list[dict], port: int, ca_bundle: str, prefix: str) -> list[dict]:
    """Upstream webhook configurations, pointed at https://127.0.0.1:<port><path>."""
    out = []
    for doc in docs:
        if doc.get("kind") not in _PLURAL:
            continue
        doc = copy.deepcopy(doc)
        doc["metadata"] = {"name": f"{prefix}{doc['metadata']['name']}",
                           "labels": {"app.kubernetes.io/managed-by": "stackgen-sandbox"}}
        for hook in doc.get("webhooks") or []:
            path = (hook.get("clientConfig") or {}).get("service", {}).get("path", "/")
            hook["clientConfig"] = {"url": f"https://127.0.0.1:{port}{path}", "caBundle": ca_bundle}
            hook.setdefault("timeoutSeconds", 10)
        out.append(doc)
    return out


class _Started:
    """What one controller needs once its process is up: a health URL and webhook configs."""

    def __init__(self, component: Component, health: str, hooks: list[dict]) -> None:
        self.component, self.health, self.hooks = component, health, hooks


def start_controllers(plane: Any, folder: Path | None = None, timeout: float | None = None) -> None:
    """Start KServe's manager and the LWS controller against `plane` (a started ControlPlane)
    and add them to `plane.components`; returns once their webhooks are registered."""
    folder = folder or controllers_dir()
    missing = missing_controllers(folder)
    if missing:
        raise StackgenError(
            f"controllers missing in {folder}: {', '.join(missing)}; build them with "
            "`make controlplane` (tools/controlplane/build.sh)")
    timeout = timeout or plane.timeout
    kube = plane.kube()
    work = plane.work_dir / "controllers"
    work.mkdir(parents=True, exist_ok=True)
    certs = work / "tmp" / "k8s-webhook-server" / "serving-certs"  # controller-runtime's default
    make_serving_cert(plane._pki, certs)
    ca_bundle = base64.b64encode(plane._pki.ca_crt.read_bytes()).decode()
    for ns in (KSERVE_NAMESPACE, LWS_NAMESPACE):
        kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                           "metadata": {"name": ns}})
    _install_missing_crds(kube, [folder / f"{n}.files" / "crd" for n in CONTROLLERS],
                          work / "crds", timeout)
    _kserve_config(kube, folder / "kserve-manager.files" / "inferenceservice-config.yaml")
    env = {"KUBECONFIG": str(plane.kubeconfig), "TMPDIR": str(work / "tmp")}
    logs = plane.work_dir / "logs"
    started = [_kserve(plane, folder, env, logs, ca_bundle),
               _lws(plane, folder, env, logs, certs, ca_bundle, work)]
    for one in started:
        plane.components[one.component.name] = one.component
        one.component.start()
    for one in started:
        wait_until(lambda one=one: http_ok(one.health), timeout,
                   f"{one.component.name} to serve its webhooks", one.component)
    # Registered only once the servers answer: every hook fails closed (failurePolicy: Fail).
    for one in started:
        for hook in one.hooks:
            kube.create(f"{_HOOKS}/{_PLURAL[hook['kind']]}", hook)


def _install_missing_crds(kube: Any, crd_dirs: list[Path], todo: Path, timeout: float) -> None:
    """The controllers' CRDs the cluster does not serve yet, from their own module versions:
    KServe's TrainedModel, ClusterStorageContainer and LocalModel* (not in ../shared/crds; the
    manager watches them and will not start without them), and any other a smaller CRD set
    left out."""
    from stackgen.cluster.controlplane import install_crds

    have = {d["metadata"]["name"] for d in (kube.request("GET", _CRDS) or {}).get("items", [])}
    todo.mkdir(parents=True, exist_ok=True)
    for path in sorted(p for d in crd_dirs for p in d.glob("*.yaml")):
        names = {d["metadata"]["name"] for d in _load_all(path)
                 if d.get("kind") == "CustomResourceDefinition"}
        if names - have:
            (todo / path.name).write_bytes(path.read_bytes())
    if any(todo.glob("*.yaml")):
        install_crds(kube, todo, timeout)


def _kserve_config(kube: Any, path: Path) -> None:
    """KServe's own inferenceservice-config, as released: only its namespace is ours."""
    (doc,) = [d for d in _load_all(path) if d.get("kind") == "ConfigMap"]
    doc["metadata"]["namespace"] = KSERVE_NAMESPACE
    kube.create(f"/api/v1/namespaces/{KSERVE_NAMESPACE}/configmaps", doc)


def _kserve(plane: Any, folder: Path, env: dict, logs: Path, ca_bundle: str) -> _Started:
    webhook, probe = free_port(), free_port()
    component = Component(
        "kserve-manager",
        [str(folder / "kserve-manager"), f"--webhook-port={webhook}", "--metrics-addr=0",
         f"--health-probe-addr=127.0.0.1:{probe}", "--leader-elect=false"],
        logs / "kserve-manager.log", detached=plane.detached,
        env={**env, "POD_NAMESPACE": KSERVE_NAMESPACE})
    hooks = _webhooks(_load_all(folder / "kserve-manager.files" / "webhooks.yaml"), webhook,
                      ca_bundle, "")
    return _Started(component, f"http://127.0.0.1:{probe}/readyz", hooks)


def _lws(plane: Any, folder: Path, env: dict, logs: Path, certs: Path, ca_bundle: str,
         work: Path) -> _Started:
    from stackgen.yamlio import read_data

    webhook, probe = free_port(), free_port()
    config = work / "lws-config.yaml"
    config.write_text(json.dumps({  # JSON is YAML
        "apiVersion": "config.lws.x-k8s.io/v1alpha1", "kind": "Configuration",
        "leaderElection": {"leaderElect": False},
        "internalCertManagement": {"enable": False},  # the sandbox CA signs its certificate
        "webhook": {"port": webhook, "host": "127.0.0.1", "certDir": str(certs)},
        "metrics": {"bindAddress": "0"},
        "health": {"healthProbeBindAddress": f"127.0.0.1:{probe}"},
    }, indent=2))
    component = Component(
        "lws-controller", [str(folder / "lws-controller"), f"--config={config}"],
        logs / "lws-controller.log", detached=plane.detached, env=env)
    files = folder / "lws-controller.files"
    docs = _load_all(files / "webhooks.yaml")
    patches = {"MutatingWebhookConfiguration": "mutating-patch.yaml",
               "ValidatingWebhookConfiguration": "validating-patch.yaml"}
    # LWS's kustomization narrows its pod webhooks to LWS pods; apply those patches as it does.
    docs = [_json_patch(d, read_data(files / patches[d["kind"]]))
            if d.get("kind") in patches else d for d in docs]
    hooks = _webhooks(docs, webhook, ca_bundle, "lws-")
    return _Started(component, f"http://127.0.0.1:{probe}/readyz", hooks)
