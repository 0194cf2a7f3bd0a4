"""Cold-start time of the local control plane (binaries already cached).

Prints, per run: start+stop of a bare control plane (no CRDs, no nodes); time until the
apiserver, controller manager and scheduler are ready with the CRDs from ../shared/crds
Established; time to add 6 kwok nodes until Ready; time to stop everything. Usage: .venv/bin/python benchmarks/controlplane_start.py [RUNS]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stackgen.cluster import controlplane as cp  # noqa: E402
from stackgen.cluster.kwok_nodes import NodePool  # noqa: E402

POOLS = [
    NodePool(name="h100", count=4, gpu_product="NVIDIA-H100-80GB-HBM3", gpus=8,
             taints=({"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"},)),
    NodePool(name="cpu", count=2),
]


def one_run() -> tuple[float, float, float, float]:
    t0 = time.perf_counter()
    cp.ControlPlane(install_crds=False).start().stop()
    bare = time.perf_counter() - t0
    t0 = time.perf_counter()
    plane = cp.ControlPlane().start()
    t1 = time.perf_counter()
    plane.add_nodes(POOLS)
    t2 = time.perf_counter()
    plane.stop()
    return bare, t1 - t0, t2 - t1, time.perf_counter() - t2


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    missing = cp.missing_binaries()
    if missing:
        print(f"binaries missing ({', '.join(missing)}): run `make controlplane` first")
        return 1
    v = cp.pinned_versions()
    print(f"control plane k8s {v['K8S_VERSION']}, etcd {v['ETCD_VERSION']}, kwok {v['KWOK_VERSION']}")
    results = [one_run() for _ in range(runs)]
    names = ("start+stop, no CRDs", "ready with CRDs", "6 kwok nodes Ready", "stop")
    for i, row in enumerate(results, 1):
        print(f"run {i}: " + " | ".join(f"{n} {v:6.2f}s" for n, v in zip(names, row)))
    medians = [statistics.median(col) for col in zip(*results)]
    print("median: " + " | ".join(f"{n} {v:6.2f}s" for n, v in zip(names, medians)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
