"""A real local Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and kwok, started from binaries cached by `tools/controlplane/build.sh`.

Every component listens on a free loopback port, so several control planes can run side by
side (parallel tests). Processes run in their own process groups; they are stopped by
`stop()`, by the context manager, at interpreter exit, and (Linux) by the kernel when the
Python process that started them dies. `stackgen.cluster.sandbox` starts a detached one
whose process ids are recorded in a state folder, for `stackgen sandbox` (see sandbox.py).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from stackgen.cluster import kwok_nodes
from stackgen.cluster.controlplane_pki import Pki, make_pki
from stackgen.cluster.controlplane_proc import (
    Component,
    ControlPlaneError,
    free_port,
    http_ok,
    wait_until,
)
from stackgen.cluster.kube import Kube
from stackgen.cluster.kwok_nodes import NodePool
from stackgen.errors import StackgenError

BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
_REPO = Path(__file__).resolve().parents[2]
_TOOLS = _REPO / "tools" / "controlplane"
_LIVE: set[ControlPlane] = set()
# Less frequent garbage collection: the apiserver spends much of a CRD install in the GC.
_ENV = {"kube-apiserver": {"GOGC": "200"}, "etcd": {"GOGC": "200"}}

__all__ = [
    "BINARIES", "ControlPlane", "ControlPlaneError", "NodePool", "binaries_dir", "build_binaries",
    "crd_documents", "default_crds_dir", "install_crds", "missing_binaries", "pinned_versions",
]


def pinned_versions() -> dict[str, str]:
    """The versions in tools/controlplane/versions.env (K8S_VERSION, ETCD_VERSION, KWOK_VERSION)."""
    path = _TOOLS / "versions.env"
    if not path.exists():
        raise StackgenError(
            f"{path} not found: the local control plane needs a stackgen source checkout "
            "(or STACKGEN_CONTROLPLANE_BIN pointing at prebuilt binaries)")
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.lstrip().startswith("#"):
            found[key.strip()] = value.strip()
    return found


def binaries_dir() -> Path:
    """Where build.sh caches the binaries (STACKGEN_CONTROLPLANE_BIN overrides)."""
    if os.environ.get("STACKGEN_CONTROLPLANE_BIN"):
        return Path(os.environ["STACKGEN_CONTROLPLANE_BIN"])
    v = pinned_versions()
    key = f"{v['K8S_VERSION']}-{v['ETCD_VERSION']}-{v['KWOK_VERSION']}"
    return _cache_root() / "controlplane" / key / "bin"


def missing_binaries(bin_dir: Path | None = None) -> list[str]:
    folder = bin_dir or binaries_dir()
    return [name for name in BINARIES if not os.access(folder / name, os.X_OK)]


def build_binaries() -> Path:
    """Run tools/controlplane/build.sh (a no-op when cached); returns the bin folder."""
    out = subprocess.run([str(_TOOLS / "build.sh")], check=True, stdout=subprocess.PIPE, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


def default_crds_dir() -> Path:
    """`<repo>/../shared/crds`, the CRDs (KServe, LWS, KEDA, Prometheus operator) for tests."""
    return _REPO.parent / "shared" / "crds"


_CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def _cache_root() -> Path:
    return Path(os.environ.get("STACKGEN_CACHE") or Path.home() / ".cache" / "stackgen")


def crd_documents(crds_dir: Path) -> list[dict]:
    """Every CustomResourceDefinition in `crds_dir`/*.yaml, parsed.

    Parsing megabytes of YAML is slow (in Python and in the apiserver alike), so each file's
    CRDs are cached as compact JSON, keyed by the file's content hash.
    """
    if not crds_dir.is_dir():
        raise StackgenError(f"CRD folder {crds_dir} not found; pass crds_dir= (or install_crds=False)")
    cache = _cache_root() / "crd-json"
    docs: list[dict] = []
    for path in sorted(crds_dir.glob("*.y*ml")):
        raw = path.read_bytes()
        cached = cache / f"{hashlib.sha256(raw).hexdigest()[:24]}.json"
        if not cached.exists():
            from stackgen.yamlio import load_all

            found = [d for d in load_all(raw) if _is_crd(d)]
            cache.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(found, separators=(",", ":")))
            tmp.replace(cached)
        docs.extend(json.loads(cached.read_text()))
    return docs


def _is_crd(doc: object) -> bool:
    return isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition"


def install_crds(kube: Kube, crds_dir: Path, timeout: float = 120.0) -> list[str]:
    """Create every CRD in `crds_dir` and wait until each is Established (served)."""
    docs = crd_documents(crds_dir)
    with ThreadPoolExecutor(max_workers=4) as pool:  # the apiserver works on them in parallel
        list(pool.map(lambda doc: kube.create(_CRDS, doc), docs))
    # Discovery lists a CRD's resource only once it is Established, and is cheap to poll
    # (unlike GETting multi-megabyte CRD objects while the apiserver builds their schemas).
    pending = {(d["spec"]["group"], v["name"], d["spec"]["names"]["plural"])
               for d in docs for v in d["spec"]["versions"] if v.get("served")}

    def served() -> bool:
        for key in list(pending):
            body = kube.request("GET", f"/apis/{key[0]}/{key[1]}", ok_missing=True)
            if body is not None and key[2] in {r["name"] for r in body.get("resources", [])}:
                pending.discard(key)
        return not pending

    wait_until(served, timeout, "CRDs to be Established")
    return [d["metadata"]["name"] for d in docs]


def _stages() -> Path:
    from stackgen.resources import profiles_dir

    return profiles_dir() / "kwok"


def _kubeconfig(server: str, pki: Pki) -> str:
    def b64(path: Path) -> str:
        import base64

        return base64.b64encode(path.read_bytes()).decode()

    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "stackgen-sandbox",
        "clusters": [{"name": "stackgen-sandbox", "cluster": {
            "server": server, "certificate-authority-data": b64(pki.ca_crt)}}],
        "users": [{"name": "stackgen-admin", "user": {
            "client-certificate-data": b64(pki.admin_crt), "client-key-data": b64(pki.admin_key)}}],
        "contexts": [{"name": "stackgen-sandbox", "context": {
            "cluster": "stackgen-sandbox", "user": "stackgen-admin", "namespace": "default"}}],
    }
    return json.dumps(config, indent=2)  # JSON is YAML; every client reads it


class ControlPlane:
    """`with ControlPlane(pools) as cp:` gives a ready cluster; `cp.kubeconfig` is its config."""

    def __init__(
        self,
        pools: Iterable[NodePool | dict] = (),
        *,
        crds_dir: Path | str | None = None,
        install_crds: bool = True,
        work_dir: Path | str | None = None,
        bin_dir: Path | str | None = None,
        detached: bool = False,
        timeout: float = 120.0,
        controllers: bool = False,
    ) -> None:
        self.pools = [kwok_nodes.as_pool(p) for p in pools]
        self.crds_dir = Path(crds_dir) if crds_dir else default_crds_dir()
        self.install_crds = install_crds
        self.bin_dir = Path(bin_dir) if bin_dir else binaries_dir()
        self.detached = detached
        self.timeout = timeout
        self.controllers = controllers  # KServe's manager and LWS's controller (controllers.py)
        self._own_dir = work_dir is None
        self.work_dir = Path(work_dir or tempfile.mkdtemp(prefix="stackgen-cp-"))
        self.kubeconfig = self.work_dir / "kubeconfig"
        self.ports: dict[str, int] = {}
        self.components: dict[str, Component] = {}
        self.node_names: list[str] = []
        self._pki: Pki | None = None
        self._kube: Kube | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> ControlPlane:
        missing = missing_binaries(self.bin_dir)
        if missing:
            raise StackgenError(
                f"control-plane binaries missing in {self.bin_dir}: {', '.join(missing)}; "
                "build them with `make controlplane` (tools/controlplane/build.sh)")
        if self.controllers:
            from stackgen.cluster.controllers import controllers_dir, missing_controllers

            if missing_controllers():
                raise StackgenError(
                    f"controllers missing in {controllers_dir()}: "
                    f"{', '.join(missing_controllers())}; build them with `make controlplane`")
        for attempt in (1, 2, 3):
            if not self.detached:
                _LIVE.add(self)
            try:
                self._start_all()
                return self
            except BaseException as err:
                self.stop()
                # A free port can be taken by someone else before our component binds it.
                if attempt == 3 or "address already in use" not in str(err):
                    raise
                shutil.rmtree(self.work_dir / "etcd", ignore_errors=True)
        raise AssertionError("unreachable")

    def _start_all(self) -> None:
        self._pki, self._kube, self.node_names = make_pki(self.work_dir / "pki"), None, []
        for name in ("etcd", "etcd-peer", "apiserver", "controller-manager", "scheduler"):
            self.ports[name] = free_port()
        tmp = self.kubeconfig.with_suffix(".tmp")
        tmp.touch(mode=0o600)
        tmp.write_text(_kubeconfig(self.server, self._pki))
        tmp.replace(self.kubeconfig)
        self._define_components()
        self.components["etcd"].start()
        wait_until(lambda: http_ok(f"http://127.0.0.1:{self.ports['etcd']}/health"),
                   self.timeout, "etcd to report healthy", self.components["etcd"])
        self.start_apiserver()
        for name in ("kube-controller-manager", "kube-scheduler", "kwok"):
            self.components[name].start()
        if self.install_crds:
            install_crds(self.kube(), self.crds_dir, self.timeout)
        self._wait_healthz("kube-controller-manager", "controller-manager")
        self._wait_healthz("kube-scheduler", "scheduler")
        wait_until(self._default_service_account, self.timeout,
                   "the default service account", self.components["kube-controller-manager"])
        if self.pools:
            self.add_nodes(self.pools)
        if self.controllers:
            from stackgen.cluster.controllers import start_controllers

            start_controllers(self)

    def stop(self) -> None:
        """Stop every component (reverse order) and remove the work folder if it was ours."""
        for component in reversed(list(self.components.values())):
            component.stop()
        _LIVE.discard(self)
        if self._own_dir and not self.detached:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def stop_apiserver(self, graceful: bool = False) -> None:
        """Stop kube-apiserver only: killed like a crash, or SIGTERM and drain if `graceful`.

        etcd keeps the data; the controller manager, scheduler and kwok retry until
        `start_apiserver()` brings it back on the same port.
        """
        self.components["kube-apiserver"].stop(grace=30.0 if graceful else 0.0)

    def start_apiserver(self) -> None:
        self.components["kube-apiserver"].start()
        wait_until(lambda: self.kube().ready("/readyz"), self.timeout,
                   "kube-apiserver /readyz", self.components["kube-apiserver"])

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- use ---------------------------------------------------------------------------------
    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports['apiserver']}"

    @property
    def version(self) -> str:
        return pinned_versions()["K8S_VERSION"]

    def kube(self) -> Kube:
        """The client of this control plane, built from its admin kubeconfig (written before
        any component starts, so even the apiserver's readiness is polled through it)."""
        if self._kube is None:
            assert self._pki is not None, "start() first"
            self._kube = Kube(str(self.kubeconfig), timeout=60.0)
        return self._kube

    def pids(self) -> dict[str, int]:
        return {n: c.pid for n, c in self.components.items() if c.pid is not None}

    def add_nodes(self, pools: Iterable[NodePool | dict]) -> list[str]:
        """Create kwok nodes for `pools` and wait until they are Ready and schedulable."""
        names = kwok_nodes.create_nodes(self.kube(), [kwok_nodes.as_pool(p) for p in pools])
        self.node_names.extend(names)
        wait_until(lambda: kwok_nodes.nodes_ready(self.kube(), names), self.timeout,
                   f"kwok nodes {', '.join(names)} to become Ready", self.components["kwok"])
        return names

    # -- internals ---------------------------------------------------------------------------
    def _wait_healthz(self, component: str, port: str) -> None:
        url = f"https://127.0.0.1:{self.ports[port]}/healthz"
        wait_until(lambda: http_ok(url), self.timeout, f"{component} /healthz",
                   self.components[component])

    def _default_service_account(self) -> bool:
        return self.kube().ready("/api/v1/namespaces/default/serviceaccounts/default")

    def _define_components(self) -> None:
        logs = self.work_dir / "logs"
        logs.mkdir(exist_ok=True)
        for name, argv in self._argv().items():
            exe = str(self.bin_dir / name)
            self.components[name] = Component(name, [exe, *argv], logs / f"{name}.log",
                                              detached=self.detached, env=_ENV.get(name))

    def _argv(self) -> dict[str, list[str]]:
        assert self._pki is not None
        pki, p, kc = self._pki, self.ports, str(self.kubeconfig)
        etcd_url, peer_url = f"http://127.0.0.1:{p['etcd']}", f"http://127.0.0.1:{p['etcd-peer']}"
        client_auth = [f"--kubeconfig={kc}", f"--authentication-kubeconfig={kc}",
                       f"--authorization-kubeconfig={kc}", "--bind-address=127.0.0.1",
                       "--leader-elect=false", "-v=1"]
        return {
            "etcd": [
                f"--data-dir={self.work_dir / 'etcd'}", "--name=stackgen", "--unsafe-no-fsync",
                f"--listen-client-urls={etcd_url}", f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls={peer_url}", f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=stackgen={peer_url}", "--log-level=warn"],
            "kube-apiserver": [
                f"--etcd-servers={etcd_url}", "--advertise-address=127.0.0.1",
                "--bind-address=127.0.0.1", f"--secure-port={p['apiserver']}",
                f"--tls-cert-file={pki.server_crt}", f"--tls-private-key-file={pki.server_key}",
                f"--client-ca-file={pki.ca_crt}", "--authorization-mode=Node,RBAC",
                f"--service-account-key-file={pki.sa_pub}",
                f"--service-account-signing-key-file={pki.sa_key}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                "--service-cluster-ip-range=10.96.0.0/16", "--allow-privileged=true",
                "--endpoint-reconciler-type=none",  # 1.37 refuses loopback endpoints
                f"--cert-dir={pki.dir}", "-v=1"],
            "kube-controller-manager": [
                *client_auth, f"--secure-port={p['controller-manager']}",
                f"--service-account-private-key-file={pki.sa_key}", f"--root-ca-file={pki.ca_crt}",
                # kwok renews node leases every 10 s; on a starved CI runner (or while an
                # apiserver is down in a fault test) allow more than the default 50 s gap
                "--node-monitor-grace-period=2m",
                f"--cert-dir={pki.dir / 'kcm'}"],
            "kube-scheduler": [*client_auth, f"--secure-port={p['scheduler']}",
                               f"--cert-dir={pki.dir / 'scheduler'}"],
            "kwok": [
                f"--kubeconfig={kc}", *[f"--config={f}" for f in sorted(_stages().glob("*.yaml"))],
                "--manage-all-nodes=false",
                f"--manage-nodes-with-annotation-selector={kwok_nodes.KWOK_ANNOTATION}=fake",
                "--node-ip=10.244.0.1", "--cidr=10.244.0.0/16",
                "--node-lease-duration-seconds=40"],  # kwok renews Leases: nodes stay Ready
        }


@atexit.register
def _stop_live() -> None:
    for plane in list(_LIVE):
        plane.stop()
