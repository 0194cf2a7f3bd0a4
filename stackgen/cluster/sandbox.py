"""`stackgen sandbox up|down`: a detached local control plane that outlives the command.

`sandbox_up` starts one (see controlplane.py) with kwok nodes for the given pools and records
each process's pid and start time in `<state_dir>/state.json`; `sandbox_down` stops exactly
those processes (a reused pid is never signalled) and removes the files.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path

from stackgen.cluster.controlplane import ControlPlane
from stackgen.cluster.controlplane_proc import kill_recorded, recorded_alive
from stackgen.cluster.kwok_nodes import NodePool
from stackgen.errors import StackgenError

__all__ = ["sandbox_down", "sandbox_status", "sandbox_up"]

def sandbox_up(state_dir: Path | str, pools: Iterable[NodePool | dict] = (),
               *, crds_dir: Path | str | None = None, timeout: float = 180.0,
               controllers: bool = True) -> Path:
    """Start a detached control plane with kwok nodes for `pools` and (unless `controllers`
    is False) KServe's manager and the LWS controller; returns the kubeconfig.

    Process ids go to `<state_dir>/state.json` so `sandbox_down` can stop them later.
    """
    state = Path(state_dir)
    recorded = sandbox_status(state)
    if recorded and any(recorded_alive(p) for p in recorded.get("processes", {}).values()):
        raise StackgenError(
            f"a sandbox is already running from {state} ({recorded.get('server')}); "
            "stop it with `stackgen sandbox down`")
    sandbox_down(state)  # clears what a dead one left behind
    state.mkdir(parents=True, exist_ok=True)
    plane = ControlPlane(pools, crds_dir=crds_dir, work_dir=state / "run", detached=True,
                         timeout=timeout, controllers=controllers)
    try:
        plane.start()
    except BaseException:
        plane.stop()
        shutil.rmtree(state / "run", ignore_errors=True)
        raise
    record = {"kubeconfig": str(plane.kubeconfig), "server": plane.server,
              "version": plane.version, "nodes": plane.node_names,
              "processes": {n: c.record() for n, c in plane.components.items()}}
    tmp = state / "state.json.tmp"
    tmp.write_text(json.dumps(record, indent=2))
    tmp.replace(state / "state.json")
    return plane.kubeconfig


def sandbox_down(state_dir: Path | str) -> bool:
    """Stop the sandbox recorded in `state_dir` and remove its files; False if none was."""
    state = Path(state_dir)
    path = state / "state.json"
    if not path.exists():
        shutil.rmtree(state / "run", ignore_errors=True)
        return False
    record = json.loads(path.read_text())
    for name in reversed(list(record.get("processes", {}))):
        kill_recorded(record["processes"][name])
    shutil.rmtree(state / "run", ignore_errors=True)
    path.unlink()
    return True


def sandbox_status(state_dir: Path | str) -> dict | None:
    """The recorded sandbox (kubeconfig, server, version, nodes, processes) or None."""
    path = Path(state_dir) / "state.json"
    return json.loads(path.read_text()) if path.exists() else None
