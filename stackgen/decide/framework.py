"""The layer framework: engine and server per model (layers 1-2), orchestration (layer 3).

Pure functions over the validated Stack. An explicit choice in the stack file wins; the
reasons then say what the framework would have chosen and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackgen.catalog.servers import engines, server
from stackgen.decide.tables import DEFAULT_FRAMEWORK, LLM_SERVER, MULTI_FRAMEWORK_SERVER, ORCHESTRATION_TRIGGERS
from stackgen.spec.models import Model, Stack


@dataclass(frozen=True)
class Serving:
    engine: str
    server: str
    backend: str | None
    framework: str | None
    reasons: tuple[str, ...]


def _backend(framework: str) -> str:
    return server(MULTI_FRAMEWORK_SERVER).backends[framework]


def framework_serving(model: Model, unified_api: bool) -> Serving:
    """What the framework picks for a model when the user does not choose."""
    if model.is_llm:
        if unified_api:
            backend = server(MULTI_FRAMEWORK_SERVER).llm_backend
            return Serving(LLM_SERVER, MULTI_FRAMEWORK_SERVER, backend, None, (
                "LLM: vLLM is the engine (PagedAttention, continuous batching)",
                "unifiedApi: served through Triton's vLLM backend, so every model shares one "
                "inference API while the LLM keeps vLLM's throughput"))
        return Serving(LLM_SERVER, LLM_SERVER, None, None, (
            "LLM: vLLM is the engine (PagedAttention, continuous batching: 3-5x the throughput "
            "of naive serving) and its OpenAI-compatible server is the inference server",))
    framework = model.framework or DEFAULT_FRAMEWORK[model.kind]
    backend = _backend(framework)
    return Serving(MULTI_FRAMEWORK_SERVER, MULTI_FRAMEWORK_SERVER, backend, framework, (
        f"{model.kind} model: vLLM serves LLMs only, so Triton serves it "
        f"(multi-framework server with a model repository and dynamic batching)",
        f"framework {framework} -> Triton's {backend} backend"))


def choose_serving(model: Model, unified_api: bool) -> Serving:
    """The engine/server for a model: the user's explicit `engine`, else the framework's."""
    auto = framework_serving(model, unified_api)
    if model.engine == "auto":
        return auto
    chosen = _explicit(model)
    if (chosen.engine, chosen.server) == (auto.engine, auto.server):
        return Serving(chosen.engine, chosen.server, chosen.backend, chosen.framework,
                       chosen.reasons + ("the framework agrees with this choice",))
    would = (f"the framework would choose engine {auto.engine} on server {auto.server}: "
             + "; ".join(auto.reasons))
    return Serving(chosen.engine, chosen.server, chosen.backend, chosen.framework,
                   chosen.reasons + (would,))


def _explicit(model: Model) -> Serving:
    """An `engine:` from the stack file, read through the server catalog (profiles/servers/):
    the server it names, the backend it runs as, and for a multi-backend server the
    backend of the model's framework (LLMs: the server's LLM backend)."""
    profile, choice = engines()[model.engine]
    said = f"engine: {model.engine} was set in the stack file"
    if choice.backend:
        return Serving(model.engine, profile.id, choice.backend, None, (
            said, f"{model.engine} runs inside {profile.name} as its {choice.backend} backend; "
                  "it needs an engine compiled for this GPU architecture before it can serve"))
    if not profile.backends:
        if profile.builder is None:
            said += f" ({profile.name}, which only KServe runs)"
        elif not model.is_llm and profile.engine_args:
            said += f" (vLLM's pooling runner serves this {model.kind} model)"
        return Serving(model.engine, profile.id, None, model.framework, (said,))
    if model.is_llm:
        return Serving(LLM_SERVER, profile.id, profile.llm_backend, None, (
            said, f"an LLM on {profile.name} goes through its {profile.llm_backend} backend"))
    framework = model.framework or DEFAULT_FRAMEWORK[model.kind]
    backend = profile.backends[framework]
    return Serving(model.engine, profile.id, backend, framework,
                   (said, f"framework {framework} -> {profile.name}'s {backend} backend"))


@dataclass(frozen=True)
class Orchestration:
    value: str            # none | kserve
    reasons: tuple[str, ...]


def effective_teams(stack: Stack) -> int:
    return max(stack.spec.requirements.teams, len({m.team for m in stack.spec.models}))


def framework_orchestration(stack: Stack) -> tuple[str, tuple[str, ...]]:
    req = stack.spec.requirements
    reasons = [why for attr, why in ORCHESTRATION_TRIGGERS.items() if getattr(req, attr)]
    teams = effective_teams(stack)
    if teams >= 2:
        reasons.insert(0, f"{teams} teams share the platform: KServe's InferenceService gives "
                          "each a self-service API decoupled from Kubernetes operations")
    if any(m.canary for m in stack.spec.models) and not req.canary:
        reasons.append("a model declares a canary version, which needs KServe's traffic shifting")
    for m in stack.spec.models:
        if m.engine != "auto" and engines()[m.engine][0].orchestrations == ("kserve",):
            reasons.append(f"{m.name} asks for {engines()[m.engine][0].name}, which only exists "
                           "in KServe")
    if reasons:
        return "kserve", tuple(reasons) + (
            "KServe orchestrates; vLLM and Triton stay the serving runtimes underneath",)
    count = len(stack.spec.models)
    return "none", (
        f"{count} model{'s' if count != 1 else ''}, one team, no canary, traffic splitting or "
        "scale-to-zero: plain Deployments, Services and HPAs; KServe's controller, Knative or "
        "Gateway API and cert-manager would be infrastructure without a job",)


def kserve_modes(stack: Stack) -> tuple[str, ...]:
    """Which KServe deployment mode each model gets and what the cluster must run for it
    (render/kserve.py renders the same choice)."""
    scale_to_zero = stack.spec.requirements.scale_to_zero
    knative = [m.name for m in stack.spec.models if scale_to_zero or m.canary]
    standard = [m.name for m in stack.spec.models if m.name not in knative]
    out = []
    if knative:
        why = "scale-to-zero" if scale_to_zero else "a canary (KServe splits traffic only there)"
        out.append(f"KServe Serverless (Knative) mode for {', '.join(knative)}: {why}; the "
                   "cluster needs Knative Serving and a networking layer (Istio or Kourier)")
    if standard:
        out.append(f"KServe Standard mode for {', '.join(standard)}: plain Deployments; those "
                   "that autoscale do so on the engine's metric through KServe's KEDA "
                   "integration (Standard mode's own HPA scales on CPU only), so the cluster "
                   "needs KEDA and the "
                   f"Prometheus at {stack.spec.render.prometheus_address}")
    return tuple(out)


def choose_orchestration(stack: Stack) -> Orchestration:
    auto, reasons = framework_orchestration(stack)
    explicit = stack.spec.requirements.orchestration
    if explicit == "auto":
        chosen = Orchestration(auto, reasons)
    elif explicit == auto:
        chosen = Orchestration(explicit, (f"requirements.orchestration: {explicit} was set in "
                                          "the stack file", *reasons))
    else:
        chosen = Orchestration(explicit, (
            f"requirements.orchestration: {explicit} was set in the stack file",
            f"the framework would choose {auto}: " + "; ".join(reasons)))
    if chosen.value == "kserve":
        return Orchestration(chosen.value, chosen.reasons + kserve_modes(stack))
    return chosen
