"""`stackgen init --discover` reads pools from node labels; without a cluster it offers
nothing and says nothing (discovery is optional), and a bad kubeconfig is never a traceback."""

from __future__ import annotations

import json
import socket
import time

import pytest

from stackgen.cluster.discover import discover_pools, pools_from_nodes
from stackgen.cluster.kube import ClusterError, Kube
from stackgen.errors import InputError


def test_gke_pools_are_grouped_by_nodepool_and_named_by_accelerator():
    gpu = {"cloud.google.com/gke-nodepool": "h100-pool",
           "cloud.google.com/gke-accelerator": "nvidia-h100-80gb"}
    nodes = [("a", gpu, {"nvidia.com/gpu": "8"}), ("b", gpu, {"nvidia.com/gpu": "8"}),
             ("c", {"cloud.google.com/gke-nodepool": "default-pool"}, {"cpu": "4"})]
    provider, pools = pools_from_nodes(nodes)
    assert provider == "gke"
    assert pools == [{"name": "default-pool", "gpu": "none", "nodes": 1},
                     {"name": "h100-pool", "gpu": "h100-80gb", "nodes": 2, "gpusPerNode": 8}]


def test_time_sliced_nodes_count_physical_gpus():
    # GFD on a time-sliced node: product ...-SHARED, replicas 4, 1 GPU advertised as 4
    labels = {"eks.amazonaws.com/nodegroup": "l4", "nvidia.com/gpu.product": "NVIDIA-L4-SHARED",
              "nvidia.com/gpu.replicas": "4", "nvidia.com/gpu.count": "1"}
    provider, pools = pools_from_nodes([("n", labels, {"nvidia.com/gpu": "4"})])
    assert (provider, pools) == ("eks", [{"name": "l4", "gpu": "l4-24gb", "nodes": 1, "gpusPerNode": 1}])
    labels.pop("nvidia.com/gpu.count")  # older GFD: divide the advertised count by the replicas
    assert pools_from_nodes([("n", labels, {"nvidia.com/gpu": "4"})])[1][0]["gpusPerNode"] == 1


def test_an_unknown_gpu_gets_no_default():
    labels = {"kubernetes.azure.com/agentpool": "mystery", "nvidia.com/gpu.product": "NVIDIA-B300"}
    assert pools_from_nodes([("n", labels, {"nvidia.com/gpu": "8"})]) == ("aks", [])


def test_no_kubeconfig_offers_nothing(tmp_path):
    assert discover_pools(str(tmp_path / "missing")) == ("generic", [])


def _kubeconfig(tmp_path, server: str) -> str:
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}))
    return str(path)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_cluster_offers_nothing_quickly(tmp_path):
    config = _kubeconfig(tmp_path, f"http://127.0.0.1:{_closed_port()}")
    start = time.monotonic()
    assert discover_pools(config) == ("generic", [])
    assert time.monotonic() - start < 10
    with pytest.raises(ClusterError, match="cannot reach the cluster"):
        Kube(config, attempts=1).request("GET", "/api/v1/nodes")
    assert Kube(config).ready("/readyz") is False


@pytest.mark.parametrize("text", ["foo: [unclosed\n", "- just\n- a list\n", "apiVersion: v1\n"])
def test_a_malformed_kubeconfig_is_bad_input(tmp_path, text):
    path = tmp_path / "kubeconfig"
    path.write_text(text)
    with pytest.raises(InputError, match="cannot load kubeconfig"):
        Kube(str(path))
    assert discover_pools(str(path)) == ("generic", [])


def test_mixed_provider_labels_prefer_gke_then_eks():
    aks = ("a", {"kubernetes.azure.com/agentpool": "p"}, {})
    eks = ("e", {"eks.amazonaws.com/nodegroup": "p"}, {})
    gke = ("g", {"cloud.google.com/gke-nodepool": "p"}, {})
    assert pools_from_nodes([aks, aks, eks, gke])[0] == "gke"
    assert pools_from_nodes([aks, eks])[0] == "eks"
    assert pools_from_nodes([aks])[0] == "aks"
