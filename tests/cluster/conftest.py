"""Fixtures for tests that need a real cluster: a local control plane with kwok GPU nodes.

`control_plane` is session-scoped (one per pytest-xdist worker; every component listens on
free loopback ports, so workers do not collide). It skips only when the binaries are
missing and STACKGEN_REQUIRE_CLUSTER is unset; `make test` builds them first and sets it.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from stackgen.cluster import controlplane as cp
from stackgen.cluster.kwok_nodes import NodePool

GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}

# Node pools every cluster test can count on (tests add their own with add_nodes()). They
# are written out by hand, not built from a stack (tests/cluster/test_apply.py does that),
# and selected by kwok's own stackgen.dev/node-pool label: these tests are about the
# scheduler, not about render. The MIG node is one A100 with 7 1g.10gb instances (NVIDIA's
# MIG profile table), which the mixed strategy advertises instead of nvidia.com/gpu.
TEST_POOLS = (
    NodePool(name="h100-pool", count=2, gpu_product="NVIDIA-H100-80GB-HBM3", gpus=8,
             cpu="192", memory="2000Gi", taints=(GPU_TAINT,)),
    NodePool(name="a100-mig", count=1, gpu_product="NVIDIA-A100-SXM4-80GB", gpus=1,
             mig={"nvidia.com/mig-1g.10gb": 7}, taints=(GPU_TAINT,)),
    NodePool(name="cpu-pool", count=1, cpu="16", memory="64Gi"),
)


def wait_for(predicate, timeout: float, what: str, interval: float = 0.25):
    """Poll until `predicate()` is truthy and return its value; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}", pytrace=False)
        time.sleep(interval)


def _require_built(what: str, folder, missing: list[str]) -> None:
    """Skip (or fail, under STACKGEN_REQUIRE_CLUSTER) when `missing` names unbuilt binaries."""
    if not missing:
        return
    reason = f"{what} missing in {folder} ({', '.join(missing)}); build them with `make controlplane`"
    if os.environ.get("STACKGEN_REQUIRE_CLUSTER"):
        pytest.fail(reason + " (STACKGEN_REQUIRE_CLUSTER is set)", pytrace=False)
    pytest.skip(reason)


def require_binaries() -> None:
    """The control-plane binaries (etcd, kube-apiserver, ..., kwok)."""
    _require_built("control-plane binaries", cp.binaries_dir(), cp.missing_binaries())


def require_controllers() -> None:
    """KServe's manager and the LWS controller, on top of the control plane."""
    from stackgen.cluster.controllers import controllers_dir, missing_controllers

    require_binaries()
    _require_built("controllers", controllers_dir(), missing_controllers())


@pytest.fixture(scope="session")
def wait():
    """`wait(predicate, timeout, what)`: poll until truthy, return the value, else fail."""
    return wait_for


@pytest.fixture
def binaries() -> Path:
    """The control-plane bin folder (skips or fails like `control_plane` when missing)."""
    require_binaries()
    return cp.binaries_dir()


@pytest.fixture(scope="session")
def control_plane() -> Iterator[cp.ControlPlane]:
    """A running control plane with the CRDs from ../shared/crds and TEST_POOLS' nodes."""
    require_binaries()
    with cp.ControlPlane(TEST_POOLS) as plane:
        yield plane


@pytest.fixture(scope="session")
def k8s_client(control_plane: cp.ControlPlane):  # -> kubernetes.client.ApiClient
    from kubernetes import config

    client = config.new_client_from_config(config_file=str(control_plane.kubeconfig))
    yield client
    client.close()


@pytest.fixture
def namespace(k8s_client) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    from kubernetes import client

    name = f"t-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(k8s_client)
    core.create_namespace({"metadata": {"name": name}})
    wait_for(lambda: core.list_namespaced_service_account(name).items, 30,
             f"service account default in {name}")  # pods need it (ServiceAccount admission)
    yield name
    core.delete_namespace(name)
