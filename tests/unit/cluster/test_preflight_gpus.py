"""apply's preflight warns when a workload's GPU pods cannot all be placed: counted per
node, since a pod's GPUs must sit on one node (12 free GPUs on 2 nodes are not 3 x 4)."""

from __future__ import annotations

from stackgen.cluster.preflight import _check_gpus

SELECTOR = {"eks.amazonaws.com/nodegroup": "a100"}
TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}


def gpu_node(name: str, gpus: int, labels: dict = SELECTOR) -> dict:
    return {"metadata": {"name": name, "labels": dict(labels)}, "spec": {"taints": [TAINT]},
            "status": {"allocatable": {"nvidia.com/gpu": str(gpus)}}}


def deployment(replicas: int, gpus: int, tolerate: bool = True) -> dict:
    container = {"name": "vllm", "resources": {"limits": {"nvidia.com/gpu": str(gpus)}}}
    pod = {"containers": [container], "nodeSelector": SELECTOR,
           "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
           if tolerate else []}
    return {"kind": "Deployment", "metadata": {"name": "chat"},
            "spec": {"replicas": replicas, "template": {"spec": pod}}}


def test_gpus_spread_over_nodes_do_not_make_a_pod():
    nodes = [gpu_node("a", 6), gpu_node("b", 6)]
    assert _check_gpus(deployment(2, 4), nodes) == []
    (warning,) = _check_gpus(deployment(3, 4), nodes)  # 12 GPUs, yet room for 2 pods of 4
    assert warning == ("Deployment/chat: needs 3 pod(s) of 4 nvidia.com/gpu; the 2 matching "
                       "node(s) have 6+6 allocatable, room for 2 such pod(s)")


def test_nodes_the_pod_cannot_use_do_not_count():
    nodes = [gpu_node("a", 8), gpu_node("other", 8, {"eks.amazonaws.com/nodegroup": "h100"})]
    (warning,) = _check_gpus(deployment(2, 8), nodes)
    assert "room for 1 such pod(s)" in warning
    (untolerated,) = _check_gpus(deployment(1, 1, tolerate=False), nodes)
    assert "no node matches nodeSelector" in untolerated and "taints tolerated" in untolerated


def test_a_hand_edited_quantity_is_not_a_traceback():
    nodes = [gpu_node("a", 8)]
    nodes[0]["status"]["allocatable"]["nvidia.com/gpu"] = "1k"
    obj = deployment(1, 1)
    assert _check_gpus(obj, nodes)  # warned: 0 usable, not crashed
    obj["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] = "half"
    assert _check_gpus(obj, nodes) == []  # not a GPU count: the apiserver will say so
