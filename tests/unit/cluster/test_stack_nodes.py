"""The sandbox's nodes look like the provider's real nodes, and render's pod placement
selects labels those real nodes carry.

The expected labels are literal tables of what each provider (and NVIDIA's GPU feature
discovery) sets, written here by hand, never computed by stackgen: a wrong label in
render's placement or in the node builder fails one of these tests.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from stackgen.cluster.kwok_nodes import node_manifest
from stackgen.cluster.stack_nodes import kwok_pool
from stackgen.render.placement import pod_placement
from stackgen.spec.models import NodePool

POOL = "gpu"  # every case's GPU pool is called this

# What the provider itself puts on a node of GPU pool "gpu" (no GPU operator needed):
PROVIDER_LABELS = {
    # GKE: cloud.google.com/gke-nodepool on every node; GPU nodes carry
    # cloud.google.com/gke-accelerator=<accelerator type>
    # (cloud.google.com/kubernetes-engine/docs/how-to/gpus, "Multiple GPUs" accelerator names)
    ("gke", "h100-80gb"): {"cloud.google.com/gke-nodepool": POOL,
                           "cloud.google.com/gke-accelerator": "nvidia-h100-80gb"},
    ("gke", "l4-24gb"): {"cloud.google.com/gke-nodepool": POOL,
                         "cloud.google.com/gke-accelerator": "nvidia-l4"},
    # EKS managed node groups: eks.amazonaws.com/nodegroup; the kubelet's well-known
    # node.kubernetes.io/instance-type (docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html)
    ("eks", "h100-80gb"): {"eks.amazonaws.com/nodegroup": POOL,
                           "node.kubernetes.io/instance-type": "p5.48xlarge"},
    ("eks", "t4-16gb"): {"eks.amazonaws.com/nodegroup": POOL,
                         "node.kubernetes.io/instance-type": "g4dn.xlarge"},
    # AKS: kubernetes.azure.com/agentpool; GPU pools are labelled accelerator=nvidia
    # (learn.microsoft.com/azure/aks/use-labels, .../gpu-cluster)
    ("aks", "h100-80gb"): {"kubernetes.azure.com/agentpool": POOL, "accelerator": "nvidia",
                           "node.kubernetes.io/instance-type": "Standard_ND96isr_H100_v5"},
    # a cluster of its own: nothing but what the GPU operator adds
    ("generic", "h100-80gb"): {},
    ("generic", "l4-24gb"): {},
}

# NVIDIA GPU feature discovery (the GPU operator), k8s-device-plugin
# docs/gpu-feature-discovery/README.md "Generated labels" and internal/lm/resource.go:
# nvidia.com/gpu.product is the NVML name with dashes; on time-sliced GPUs it ends in
# -SHARED and gpu.replicas is set; with the mixed MIG strategy each MIG type gets labels.
GFD_LABELS = {
    "h100-80gb": {"nvidia.com/gpu.present": "true", "nvidia.com/gpu.count": "8",
                  "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"},
    "l4-24gb": {"nvidia.com/gpu.present": "true", "nvidia.com/gpu.count": "1",
                "nvidia.com/gpu.product": "NVIDIA-L4"},
    "t4-16gb": {"nvidia.com/gpu.present": "true", "nvidia.com/gpu.count": "1",
                "nvidia.com/gpu.product": "Tesla-T4"},
}
TIME_SLICED_L4 = {"nvidia.com/gpu.present": "true", "nvidia.com/gpu.count": "1",
                  "nvidia.com/gpu.product": "NVIDIA-L4-SHARED", "nvidia.com/gpu.replicas": "4"}
MIG_A100 = {"nvidia.com/gpu.present": "true", "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB",
            "nvidia.com/mig.strategy": "mixed", "nvidia.com/mig-1g.10gb.count": "56",
            "nvidia.com/mig-1g.10gb.product": "NVIDIA-A100-SXM4-80GB-MIG-1g.10gb"}

# Taints the providers document for GPU pools: GKE adds nvidia.com/gpu=present:NoSchedule
# itself (GKE GPU docs); Azure's guidance taints sku=gpu:NoSchedule; EKS GPU node groups
# are usually tainted nvidia.com/gpu=true:NoSchedule; GPU-operator clusters nvidia.com/gpu.
GPU_TAINTS = {
    "gke": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}],
    "eks": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}],
    "aks": [{"key": "sku", "value": "gpu", "effect": "NoSchedule"}],
    "generic": [{"key": "nvidia.com/gpu", "effect": "NoSchedule"}],
}
GPUS_PER_NODE = {"h100-80gb": 8, "l4-24gb": 1, "t4-16gb": 1}
CASES = sorted(PROVIDER_LABELS)


def gpu_pool(gpu: str, **extra) -> NodePool:
    return NodePool(name=POOL, gpu=gpu, nodes=2, gpus_per_node=GPUS_PER_NODE.get(gpu, 8), **extra)


def node(pool: NodePool, provider: str) -> dict:
    return node_manifest(kwok_pool(pool, provider), 0)


@pytest.mark.parametrize("provider, gpu", CASES)
def test_sandbox_nodes_carry_every_label_a_real_node_carries(provider, gpu):
    labels = node(gpu_pool(gpu), provider)["metadata"]["labels"]
    expected = {**PROVIDER_LABELS[provider, gpu], **GFD_LABELS[gpu]}
    assert {k: labels.get(k) for k in expected} == expected


@pytest.mark.parametrize("provider", sorted(GPU_TAINTS))
def test_sandbox_gpu_nodes_carry_the_providers_taint(provider):
    assert node(gpu_pool("h100-80gb"), provider)["spec"]["taints"] == GPU_TAINTS[provider]


@pytest.mark.parametrize("provider, gpu", CASES)
def test_rendered_selector_names_only_labels_the_providers_nodes_carry(provider, gpu):
    """On GKE, EKS and AKS the selector must work without the GPU operator: only the
    provider's own labels; on a generic cluster only GPU feature discovery's."""
    real = PROVIDER_LABELS[provider, gpu] if provider != "generic" else GFD_LABELS[gpu]
    selector = pod_placement(gpu_pool(gpu), provider)["nodeSelector"]
    assert selector, "a GPU pool's pods must be pinned to it"
    assert selector.items() <= real.items(), f"{selector} selects labels {provider} nodes lack"


@pytest.mark.parametrize("provider", sorted(GPU_TAINTS))
def test_rendered_tolerations_cover_the_real_gpu_taints(provider):
    tolerations = pod_placement(gpu_pool("h100-80gb"), provider)["tolerations"]
    for taint in GPU_TAINTS[provider]:
        assert any(t["key"] == taint["key"] and t["effect"] == taint["effect"] and (
            t["operator"] == "Exists" or t.get("value") == taint.get("value")) for t in tolerations), taint


def test_time_sliced_pool_is_selected_by_its_shared_product_label():
    pool = NodePool(name=POOL, gpu="l4-24gb", nodes=1, gpus_per_node=1, time_slicing=4)
    sandbox = node(pool, "generic")
    assert {k: sandbox["metadata"]["labels"].get(k) for k in TIME_SLICED_L4} == TIME_SLICED_L4
    assert sandbox["status"]["allocatable"]["nvidia.com/gpu"] == "4"  # 1 GPU x 4 replicas
    selector = pod_placement(pool, "generic")["nodeSelector"]
    assert selector.items() <= TIME_SLICED_L4.items()


def test_mig_pool_nodes_advertise_instances_not_whole_gpus():
    pool = NodePool(name=POOL, gpu="a100-80gb", nodes=1, gpus_per_node=8, mig="1g.10gb")
    sandbox = node(pool, "generic")
    assert {k: sandbox["metadata"]["labels"].get(k) for k in MIG_A100} == MIG_A100
    allocatable = sandbox["status"]["allocatable"]
    assert allocatable["nvidia.com/mig-1g.10gb"] == "56"  # 8 GPUs x 7 instances
    assert "nvidia.com/gpu" not in allocatable
    assert pod_placement(pool, "generic")["nodeSelector"].items() <= MIG_A100.items()


@pytest.mark.parametrize("provider", ["gke", "eks", "aks", "generic"])
def test_cpu_pods_keep_off_real_gpu_nodes_and_fit_real_cpu_nodes(provider):
    cpu = NodePool(name="cpu", gpu="none", nodes=1)
    terms = pod_placement(cpu, provider)["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    absent = {e["key"] for e in terms[0]["matchExpressions"] if e["operator"] == "DoesNotExist"}
    gpu_node = {**PROVIDER_LABELS.get((provider, "h100-80gb"), {}), **GFD_LABELS["h100-80gb"]}
    assert absent & set(gpu_node), f"{absent} lets CPU pods onto {provider} GPU nodes"
    assert not absent & set(node(cpu, provider)["metadata"]["labels"])


def test_stack_labels_are_added_to_the_real_ones():
    pool = gpu_pool("h100-80gb", labels={"team": "search"})
    labels = node(pool, "gke")["metadata"]["labels"]
    assert labels["team"] == "search"
    assert labels["cloud.google.com/gke-accelerator"] == "nvidia-h100-80gb"


def test_sandbox_nodes_are_built_without_render():
    code = ("import sys, stackgen.cluster.stack_nodes, stackgen.cluster.kwok_nodes; "
            "print(sorted(m for m in sys.modules if m.startswith('stackgen.render')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
