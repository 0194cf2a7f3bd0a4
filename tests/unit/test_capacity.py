"""Schedulable-GPU arithmetic a user can check by hand: a pod's GPUs sit on one node."""

from __future__ import annotations

import pytest

from stackgen import capacity as C
from stackgen.catalog import resolve_gpu
from stackgen.spec.models import NodePool


def test_tp4_on_two_six_gpu_nodes_is_two_replicas_not_three():
    # 12 GPUs in total, but each node has room for one 4-GPU pod only (2 GPUs left idle)
    assert C.replicas_that_fit(nodes=2, units_per_node=6, units_per_pod=4) == 2
    assert C.replicas_that_fit(nodes=2, units_per_node=8, units_per_pod=4) == 4


def test_pipeline_parallel_replica_needs_one_pod_per_stage():
    # TP 8 x PP 2: two 8-GPU pods per replica; 3 nodes of 8 hold one replica, 4 hold two
    assert C.replicas_that_fit(nodes=3, units_per_node=8, units_per_pod=8, pods_per_replica=2) == 1
    assert C.replicas_that_fit(nodes=4, units_per_node=8, units_per_pod=8, pods_per_replica=2) == 2
    assert C.units_per_pod(16, pipeline_parallel=2) == 8
    assert C.units_per_pod(4) == 4


def test_a_pod_larger_than_a_node_never_fits():
    assert C.replicas_that_fit(nodes=10, units_per_node=4, units_per_pod=8) == 0
    assert C.pods_that_fit([7, 1, 1, 1, 1, 1, 1, 1], 2) == 3  # 8 free GPUs, spread out


def test_units_per_node_counts_time_slices_and_mig_instances():
    assert C.units_per_node(8) == 8
    assert C.units_per_node(8, time_slicing=4) == 32
    assert C.units_per_node(8, mig_instances=7) == 56


@pytest.mark.parametrize("gpu, expected", [
    # NVIDIA MIG user guide, "Supported MIG profiles" (instances per GPU)
    ("h100-80gb", {"1g.10gb": 7, "1g.20gb": 4, "2g.20gb": 3, "3g.40gb": 2, "4g.40gb": 1, "7g.80gb": 1}),
    ("a100-80gb", {"1g.10gb": 7, "1g.20gb": 4, "2g.20gb": 3, "3g.40gb": 2, "4g.40gb": 1, "7g.80gb": 1}),
    ("a100-40gb", {"1g.5gb": 7, "2g.10gb": 3, "3g.20gb": 2, "4g.20gb": 1, "7g.40gb": 1}),
    ("h200-141gb", {"1g.18gb": 7, "1g.35gb": 4, "2g.35gb": 3, "3g.71gb": 2, "4g.71gb": 1, "7g.141gb": 1}),
])
def test_mig_instances_per_gpu_match_nvidias_tables(gpu, expected):
    profile = resolve_gpu(gpu)
    assert set(profile.mig_profiles) == set(expected)  # the catalog lists exactly these
    assert {p: C.mig_instances_per_gpu(profile, p) for p in expected} == expected


def test_a_malformed_mig_profile_is_a_value_error():
    with pytest.raises(ValueError, match="<g>g.<memory>gb"):
        C.mig_instances_per_gpu(resolve_gpu("h100-80gb"), "big")


def test_first_fit_decreasing_reports_the_pods_left_over():
    # two 8-GPU nodes: the two 8-GPU pods take them whole, so both 4-GPU pods are left
    assert C.unplaced([8, 8], [4, 8, 4, 8]) == [4, 4]
    assert C.unplaced([8, 8], [4, 8, 4]) == []
    assert C.unplaced([6, 6], [4, 4, 4]) == [4]  # 12 GPUs >= 12 asked, yet one pod is left
    assert C.unplaced([8, 8], [2] * 8) == []


def test_pool_helpers_read_the_stack_files_pool():
    plain = NodePool(name="h100", gpu="h100-80gb", nodes=2, gpus_per_node=8)
    sliced = NodePool(name="l4", gpu="l4-24gb", nodes=3, gpus_per_node=1, time_slicing=4)
    mig = NodePool(name="mig", gpu="a100-80gb", nodes=2, gpus_per_node=8, mig="1g.10gb")
    cpu = NodePool(name="cpu", gpu="none", nodes=5)
    assert [C.schedulable_gpus(p) for p in (plain, sliced, mig, cpu)] == [16, 12, 112, 0]
    assert [C.pool_resource(p) for p in (plain, sliced, mig, cpu)] == [
        "nvidia.com/gpu", "nvidia.com/gpu", "nvidia.com/mig-1g.10gb", None]
    assert C.pool_units_per_node(mig) == 56
