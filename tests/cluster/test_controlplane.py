"""The local control plane is a real cluster: pinned version, CRDs served, kube-scheduler
placing GPU pods on kwok nodes (and refusing untolerated taints), clean teardown."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kubernetes import client, config

from stackgen.cluster import controlplane as cp
from stackgen.cluster import sandbox
from stackgen.errors import StackgenError

pytestmark = pytest.mark.cluster

H100 = {"stackgen.dev/node-pool": "h100-pool"}
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def deployment(name: str, *, resources: dict, selector: dict, tolerations: list) -> dict:
    pod = {"containers": [{"name": "server", "image": "vllm/vllm-openai:latest",
                           "resources": {"requests": resources, "limits": resources}}],
           "nodeSelector": selector, "tolerations": tolerations}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": pod}}}


def pods_of(k8s_client, namespace: str, app: str) -> list:
    return client.CoreV1Api(k8s_client).list_namespaced_pod(namespace, label_selector=f"app={app}").items


def scheduling_events(k8s_client, namespace: str, pod: str) -> list[str]:
    events = client.CoreV1Api(k8s_client).list_namespaced_event(
        namespace, field_selector=f"involvedObject.name={pod},reason=FailedScheduling").items
    return [e.message for e in events]


def test_apiserver_reports_the_pinned_version(control_plane, k8s_client):
    info = client.VersionApi(k8s_client).get_code()
    assert info.git_version == cp.pinned_versions()["K8S_VERSION"] == control_plane.version
    assert info.major == "1" and info.minor == control_plane.version.split(".")[1]


@pytest.mark.parametrize("group, version, plural, kind", [
    ("serving.kserve.io", "v1beta1", "inferenceservices", "InferenceService"),
    ("leaderworkerset.x-k8s.io", "v1", "leaderworkersets", "LeaderWorkerSet"),
    ("keda.sh", "v1alpha1", "scaledobjects", "ScaledObject"),
    ("monitoring.coreos.com", "v1", "servicemonitors", "ServiceMonitor"),
])
def test_crds_from_shared_are_served(k8s_client, namespace, group, version, plural, kind):
    resources = client.CustomObjectsApi(k8s_client).get_api_resources(group, version).resources
    assert kind in {r.kind for r in resources}
    listed = client.CustomObjectsApi(k8s_client).list_namespaced_custom_object(
        group, version, namespace, plural)
    assert listed["items"] == []


def test_kwok_nodes_mirror_the_pools(k8s_client):
    nodes = {n.metadata.name: n for n in client.CoreV1Api(k8s_client).list_node().items}
    assert {"h100-pool-0", "h100-pool-1", "a100-mig-0", "cpu-pool-0"} <= set(nodes)
    h100 = nodes["h100-pool-0"]
    assert h100.status.allocatable["nvidia.com/gpu"] == "8"
    assert h100.metadata.labels["nvidia.com/gpu.product"] == "NVIDIA-H100-80GB-HBM3"
    assert h100.metadata.annotations["kwok.x-k8s.io/node"] == "fake"
    assert [(t.key, t.effect) for t in h100.spec.taints] == [("nvidia.com/gpu", "NoSchedule")]
    mig = nodes["a100-mig-0"]
    assert mig.status.allocatable["nvidia.com/mig-1g.10gb"] == "7"
    assert "nvidia.com/gpu" not in mig.status.allocatable  # MIG-enabled: only its instances
    assert mig.metadata.labels["nvidia.com/mig-1g.10gb.count"] == "7"
    ready = {c.type: c.status for c in h100.status.conditions}
    assert ready["Ready"] == "True"


def test_gpu_pod_is_scheduled_on_its_pool_and_becomes_ready(k8s_client, namespace, wait):
    apps = client.AppsV1Api(k8s_client)
    apps.create_namespaced_deployment(namespace, deployment(
        "chat", resources={"nvidia.com/gpu": "1"}, selector=H100, tolerations=[GPU_TOLERATION]))
    wait(lambda: (apps.read_namespaced_deployment_status("chat", namespace).status
                      .ready_replicas or 0) == 1, 60, "deployment chat to become ready")
    (pod,) = pods_of(k8s_client, namespace, "chat")
    assert pod.spec.node_name in {"h100-pool-0", "h100-pool-1"}
    assert pod.status.phase == "Running"
    assert {c.type: c.status for c in pod.status.conditions}["Ready"] == "True"


def test_pod_without_toleration_stays_pending_with_the_taint_as_reason(k8s_client, namespace, wait):
    client.AppsV1Api(k8s_client).create_namespaced_deployment(namespace, deployment(
        "no-tol", resources={"nvidia.com/gpu": "1"}, selector=H100, tolerations=[]))
    pod = wait(lambda: pods_of(k8s_client, namespace, "no-tol"), 30, "the pod to exist")[0]
    messages = wait(lambda: scheduling_events(k8s_client, namespace, pod.metadata.name),
                        60, "a FailedScheduling event")
    # 1.37's scheduler counts nodes per reason without naming the taint's key; the h100
    # nodes match the selector, so the taint is what keeps the pod off them.
    assert any(re.search(r"\d node\(s\) had untolerated taint", m) for m in messages), messages
    (pod,) = pods_of(k8s_client, namespace, "no-tol")
    assert pod.status.phase == "Pending" and pod.spec.node_name is None


def test_mig_slices_and_gpu_capacity_are_enforced(k8s_client, namespace, wait):
    apps = client.AppsV1Api(k8s_client)
    mig = {"stackgen.dev/node-pool": "a100-mig"}
    apps.create_namespaced_deployment(namespace, deployment(
        "mig", resources={"nvidia.com/mig-1g.10gb": "1"}, selector=mig, tolerations=[GPU_TOLERATION]))
    apps.create_namespaced_deployment(namespace, deployment(
        "too-big", resources={"nvidia.com/gpu": "9"}, selector=H100, tolerations=[GPU_TOLERATION]))
    wait(lambda: (apps.read_namespaced_deployment_status("mig", namespace).status
                      .ready_replicas or 0) == 1, 60, "deployment mig to become ready")
    assert pods_of(k8s_client, namespace, "mig")[0].spec.node_name == "a100-mig-0"
    pod = pods_of(k8s_client, namespace, "too-big")[0]
    messages = wait(lambda: scheduling_events(k8s_client, namespace, pod.metadata.name),
                        60, "a FailedScheduling event")
    assert any("Insufficient nvidia.com/gpu" in m for m in messages), messages


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                if text.encode() in (proc / "cmdline").read_bytes() and _alive(int(proc.name)):
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def test_apiserver_restart_keeps_data_and_stop_leaves_no_process(tmp_path, binaries, wait):
    plane = cp.ControlPlane([{"name": "cpu", "count": 1}], install_crds=False,
                            work_dir=tmp_path / "cp")
    with plane:
        core = client.CoreV1Api(config.new_client_from_config(config_file=str(plane.kubeconfig)))
        core.create_namespaced_config_map("default", {"metadata": {"name": "kept"}, "data": {"a": "1"}})
        plane.stop_apiserver()
        with pytest.raises(Exception):
            core.read_namespaced_config_map("kept", "default", _request_timeout=2)
        plane.start_apiserver()
        assert core.read_namespaced_config_map("kept", "default").data == {"a": "1"}
        # the scheduler and kwok reconnected: a new pod is placed and started
        core.create_namespaced_pod("default", {"metadata": {"name": "after"}, "spec": {
            "containers": [{"name": "c", "image": "busybox"}]}})
        pod = wait(lambda: (p := core.read_namespaced_pod("after", "default")).status.phase
                   == "Running" and p, 60, "pod after to run after the restart")
        assert pod.spec.node_name == "cpu-0"
        pids = plane.pids()
        assert set(pids) == set(cp.BINARIES) and all(_alive(p) for p in pids.values())
    assert not [p for p in pids.values() if _alive(p)]
    assert _processes_mentioning(str(tmp_path / "cp")) == []


def test_sandbox_up_runs_detached_and_down_stops_it(tmp_path, binaries):
    state = tmp_path / "sandbox"
    pool = {"name": "l4", "nodes": 1, "gpusPerNode": 2, "gpuProduct": "NVIDIA-L4",
            "taints": [GPU_TAINT]}
    crds = tmp_path / "crds"  # one small CRD keeps this test quick
    crds.mkdir()
    shutil.copy(cp.default_crds_dir() / "keda.sh_scaledobjects.yaml", crds)
    kubeconfig = sandbox.sandbox_up(state, [pool], crds_dir=crds, controllers=False)
    try:
        record = sandbox.sandbox_status(state)
        pids = [p["pid"] for p in record["processes"].values()]
        assert all(os.getsid(pid) == pid for pid in pids)  # own sessions: survive the CLI
        api = config.new_client_from_config(config_file=str(kubeconfig))
        node = client.CoreV1Api(api).read_node("l4-0")
        assert node.status.allocatable["nvidia.com/gpu"] == "2"
        served = client.CustomObjectsApi(api).get_api_resources("keda.sh", "v1alpha1").resources
        assert "ScaledObject" in {r.kind for r in served}
        with pytest.raises(StackgenError, match="already running"):
            sandbox.sandbox_up(state, [pool], controllers=False)
    finally:
        assert sandbox.sandbox_down(state)
    assert not [p for p in pids if _alive(p)]
    assert sandbox.sandbox_status(state) is None and not sandbox.sandbox_down(state)


def test_a_killed_test_process_leaves_no_component_running(tmp_path, binaries):
    """SIGKILL skips atexit and finally blocks; the kernel must still stop the components."""
    script = (
        "import json, sys, time\n"
        "from stackgen.cluster.controlplane import ControlPlane\n"
        f"plane = ControlPlane(install_crds=False, work_dir={str(tmp_path / 'cp')!r}).start()\n"
        "print(json.dumps(plane.pids()), flush=True)\n"
        "time.sleep(600)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[2])
    try:
        pids = json.loads(child.stdout.readline() or "{}")
        assert set(pids) == set(cp.BINARIES), "the child did not start a control plane"
    finally:
        child.kill()
        child.wait()
    wait = time.monotonic() + 10
    while [p for p in pids.values() if _alive(p)] and time.monotonic() < wait:
        time.sleep(0.1)
    assert [p for p in pids.values() if _alive(p)] == []
