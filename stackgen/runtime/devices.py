"""Checks that the accelerators the pod was given match tensor x pipeline parallelism.

Counting never imports torch (slow, and it would grab a CUDA context before vLLM):
CUDA_VISIBLE_DEVICES wins when set (the NVIDIA device plugin and users set it); otherwise
the /dev/nvidiaN device nodes are counted.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from stackgen.runtime.errors import RuntimeInputError
from stackgen.runtime.logs import log

_NODE = re.compile(r"^nvidia\d+$")


@dataclass(frozen=True)
class Accelerators:
    device: str  # cuda | cpu
    visible: int
    how: str  # which source the count came from


def count_visible(env: dict[str, str] | None = None, dev: Path = Path("/dev")) -> tuple[int, str]:
    env = os.environ if env is None else env
    listed = env.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        ids = [x.strip() for x in listed.split(",") if x.strip()]
        # CUDA stops at the first invalid id; "-1" is the usual way to hide every GPU.
        valid = []
        for ident in ids:
            if ident.startswith("-"):
                break
            valid.append(ident)
        return len(valid), f"CUDA_VISIBLE_DEVICES={listed!r}"
    try:
        nodes = [p.name for p in dev.iterdir() if _NODE.match(p.name)]
    except OSError:
        nodes = []
    return len(nodes), f"{len(nodes)} /dev/nvidiaN device node(s)"


def check_accelerators(device: str, tp: int, pp: int, env: dict[str, str] | None = None,
                       nodes: int = 1) -> Accelerators:
    """Raises RuntimeInputError when a CUDA run would get fewer GPUs than TP x PP.

    With `nodes` > 1 (a multi-node group: this pod is one of them) the pod needs its share,
    TP x PP / nodes."""
    visible, how = count_visible(env)
    needed = tp * pp // max(nodes, 1)
    chosen = device if device != "auto" else ("cuda" if visible > 0 else "cpu")
    log("devices.detected", requested=device, device=chosen, visible=visible, source=how,
        tensorParallelSize=tp, pipelineParallelSize=pp, needed=needed)
    if chosen == "cpu":
        log("devices.check-skipped", reason="CPU run: TP x PP is not matched against GPUs")
        return Accelerators("cpu", visible, how)
    if visible < needed:
        raise RuntimeInputError(
            f"engine settings ask for tensorParallelSize {tp} x pipelineParallelSize {pp} = "
            f"{tp * pp} GPU(s)" + (f" over {nodes} pods, {needed} in this one" if nodes > 1 else "")
            + f", but {visible} are visible ({how}). Request {needed} "
            "nvidia.com/gpu for the container, or lower tensorParallelSize/pipelineParallelSize "
            "(stackgen plan picks them from the node pool).",
            event="devices.mismatch",
            needed=needed,
            visible=visible,
        )
    if visible > needed:
        log("devices.unused", level="warning", visible=visible, needed=needed,
            reason="more GPUs are visible than TP x PP uses; the rest stay idle")
    return Accelerators("cuda", visible, how)
