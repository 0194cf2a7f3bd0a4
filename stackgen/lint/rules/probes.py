"""Probes of model servers: startup, readiness, and whether they hit the server at all."""

from __future__ import annotations

from typing import Any, Iterator

from stackgen.lint.model import Hit
from stackgen.lint.registry import rule
from stackgen.lint.rules._util import number, probes, servers
from stackgen.catalog.servers import server as server_profile
from stackgen.lint.workloads import SERVING_KINDS, Container, PodTemplate, mapping, seq

DEFAULT_BUDGET = 600  # seconds; `thresholds.startupBudgetSeconds` overrides


@rule("SG301", "model-server-no-startup-probe", "warning", kinds=SERVING_KINDS,
      description="A model server has a liveness probe but no startup probe.",
      anti_pattern="Loading a 70B model takes minutes; the liveness probe starts right away, "
                   "fails until the weights are in GPU memory, and the kubelet kills the pod in "
                   "a restart loop that never finishes loading.",
      best_practice="Give model servers a startupProbe on the health endpoint with a budget "
                    "(periodSeconds x failureThreshold) longer than the worst-case load.",
      remediation="Add `startupProbe: {httpGet: {path: /health, port: http}, periodSeconds: 10, "
                  "failureThreshold: 90}` beside the liveness probe.")
def no_startup_probe(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    for c in servers(pod):
        if "livenessProbe" in c.data and not c.given("startupProbe"):
            yield Hit(c.path + ("livenessProbe",),
                      f"{c.server.kind} container {c.name} has a livenessProbe and no startupProbe")


def budget(probe: dict) -> int:
    """Seconds before a failing startup probe gets the container killed."""
    return (number(probe.get("initialDelaySeconds"), 0)
            + number(probe.get("periodSeconds"), 10) * number(probe.get("failureThreshold"), 3))


@rule("SG302", "startup-budget-too-short", "warning", kinds=SERVING_KINDS,
      description="A model server's startup probe gives up before a large model can load.",
      anti_pattern="A startupProbe with the defaults (3 failures x 10 s) or a budget of a "
                   "couple of minutes: download, weight loading, torch.compile and CUDA graph "
                   "capture take longer, and the pod is killed before it ever serves.",
      best_practice="Budget at least the startup floor (600 s by default, "
                    "`thresholds.startupBudgetSeconds` in .stackgen-lint.yaml).",
      remediation="Raise failureThreshold (or periodSeconds) so that initialDelaySeconds + "
                  "periodSeconds x failureThreshold covers the model's load time.")
def startup_budget_too_short(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    floor = ctx.get("startupBudgetSeconds", DEFAULT_BUDGET)
    for c in servers(pod):
        probe = c.data.get("startupProbe")
        if isinstance(probe, dict) and budget(probe) < floor:
            yield Hit(c.path + ("startupProbe",),
                      f"startupProbe of {c.name} allows {budget(probe)} s to start; the floor is {floor} s")


@rule("SG303", "missing-readiness-probe", "warning",
      kinds=("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "LeaderWorkerSet",
             "LLMInferenceService"),
      description="A model server has no readiness probe.",
      anti_pattern="Without readiness the Service sends requests to a pod that is still loading "
                   "weights: clients see connection resets and 503s on every rollout and scale-up.",
      best_practice="Probe the server's health endpoint for readiness (vLLM: /health; "
                    "Triton: /v2/health/ready).",
      remediation="Add `readinessProbe: {httpGet: {path: /health, port: http}, periodSeconds: 5}`.")
def missing_readiness_probe(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    for c in servers(pod):
        if not c.given("readinessProbe"):  # an LLMInferenceService's `main` gets the preset's
            yield Hit(c.path + ("name",), f"{c.server.kind} container {c.name} has no readinessProbe")


def health_paths(kind: str) -> tuple[set[str], tuple[str, ...]]:
    """(exact paths, path prefixes) the server answers on (profiles/servers/: probePaths)."""
    profile = server_profile(kind)
    return set(profile.probe_paths), tuple(profile.probe_path_prefixes)


@rule("SG304", "probe-path-mismatch", "error", kinds=SERVING_KINDS,
      description="A model server's HTTP probe asks for a path the server does not serve.",
      anti_pattern="`/v2/health/ready` (Triton's) on a vLLM server or `/health` on Triton: the "
                   "probe gets 404 forever, the pod never becomes ready or is restarted in a loop.",
      best_practice="vLLM: /health (or /v1/models); Triton: /v2/health/ready and /v2/health/live; "
                    "KServe's huggingface server: /v1/models or /v2/health/ready.",
      remediation="Point httpGet.path at the server's health endpoint.")
def probe_path_mismatch(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    for c in servers(pod):
        exact, prefixes = health_paths(c.server.kind)
        for name, probe in probes(c):
            path = mapping(probe.get("httpGet")).get("path")
            if path is None:
                continue
            clean = str(path).split("?")[0].rstrip("/") or "/"
            if clean not in exact and not clean.startswith(prefixes):
                yield Hit(c.path + (name, "httpGet", "path"),
                          f"{name} of {c.server.kind} container {c.name} probes {path}, which "
                          f"{c.server.kind} does not serve (use {server_profile(c.server.kind).health.ready})")


def _probe_port(probe: dict) -> tuple[str, Any] | None:
    for action in ("httpGet", "tcpSocket", "grpc"):
        if isinstance(probe.get(action), dict) and "port" in probe[action]:
            return action, probe[action]["port"]
    return None


def _serving_ports(c: Container) -> set[int] | None:
    server = c.server
    if server is None or server.port is None:
        return None
    ports = server_profile(server.kind).ports
    if len(ports) > 1:  # one flag per port: --http-port, --grpc-port, --metrics-port
        return {number(server.options.get(f"{name}-port"), default) for name, default in ports.items()}
    return {server.port}


@rule("SG305", "probe-port-mismatch", "error", kinds=SERVING_KINDS,
      description="A probe targets a port the container does not listen on or does not name.",
      anti_pattern="vLLM started with `--port 8080` probed on 8000, or a probe on port `http` "
                   "when the container's port is named `web`: the probe never succeeds.",
      best_practice="Name the server's containerPort and probe it by name; keep `--port` and "
                    "containerPort in sync.",
      remediation="Make the probe's port the server's listening port (or a declared port name).")
def probe_port_mismatch(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    for c in pod.containers:
        named = {str(p.get("name")): p.get("containerPort") for p in seq(c.data.get("ports"))
                 if isinstance(p, dict) and p.get("name")}
        serving = _serving_ports(c)
        for name, probe in probes(c):
            found = _probe_port(probe)
            if found is None:
                continue
            action, port = found
            where = c.path + (name, action, "port")
            if isinstance(port, str) and not port.isdigit():
                if port not in named:
                    yield Hit(where, f"{name} of {c.name} uses port name {port!r}, which the container does not declare")
                    continue
                port = named[port]
            number_port = number(port, -1)
            if serving and action != "grpc" and number_port not in serving:
                yield Hit(where, f"{name} of {c.name} probes port {port}, but {c.server.kind} "
                                 f"listens on {sorted(serving)[0]}")
