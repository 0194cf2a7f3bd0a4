"""Small helpers shared by rules."""

from __future__ import annotations

from functools import cache
from typing import Any, Iterator

from stackgen.lint.workloads import Container, PodTemplate, mapping, seq

PROBES = ("startupProbe", "livenessProbe", "readinessProbe")
@cache
def vllm_like() -> tuple[str, ...]:
    """Servers whose command line takes vLLM's engine arguments (profiles/servers/: engineArgs)."""
    from stackgen.catalog.servers import load_servers

    
    return tuple(s.id for s in load_servers().values() if s.engine_args == "vllm")


def servers(pod: PodTemplate, kinds: tuple[str, ...] | None = None) -> Iterator[Container]:
    """The containers of `pod` that run a model server (of `kinds`; default any)."""
    for c in pod.containers:
        if c.server is not None and (kinds is None or c.server.kind in kinds):
            yield c


def probes(container: Container) -> Iterator[tuple[str, dict]]:
    for name in PROBES:
        probe = container.data.get(name)
        if isinstance(probe, dict):
            yield name, probe


def arg_path(container: Container, *needles: str) -> tuple:
    """Path of the first command/args item that contains one of `needles`."""
    for key in ("args", "command"):
        for i, item in enumerate(seq(container.data.get(key))):
            if any(n in str(item) for n in needles):
                return container.path + (key, i)
    return container.path + ("args",) if "args" in container.data else container.path + ("name",)


def shm_mount(container: Container) -> dict | None:
    for m in container.mounts():
        if str(m.get("mountPath", "")).rstrip("/") == "/dev/shm":
            return m
    return None


def number(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def get(data: Any, *path: str) -> Any:
    for part in path:
        data = mapping(data).get(part)
    return data
