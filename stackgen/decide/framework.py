"""The layer framework: engine and server per model (layers 1-2), orchestration (layer 3).

Pure functions over the validated Stack. An explicit choice in the stack file wins; the
reasons then say what the framework would have chosen and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackgen.decide.tables import DEFAULT_FRAMEWORK, ORCHESTRATION_TRIGGERS, TRITON_BACKEND
from stackgen.spec.models import Model, Stack


@dataclass(frozen=True)
class Serving:
    engine: str
    server: str
    backend: str | None
    framework: str | None
    reasons: tuple[str, ...]


def framework_serving(model: Model, unified_api: bool) -> Serving:
    """What the framework picks for a model when the user does not choose."""
    if model.is_llm:
        if unified_api:
            return Serving("vllm", "triton", "vllm", None, (
                "LLM: vLLM is the engine (PagedAttention, continuous batching)",
                "unifiedApi: served through Triton's vLLM backend, so every model shares one "
                "inference API while the LLM keeps vLLM's throughput"))
        return Serving("vllm", "vllm", None, None, (
            "LLM: vLLM is the engine (PagedAttention, continuous batching: 3-5x the throughput "
            "of naive serving) and its OpenAI-compatible server is the inference server",))
    framework = model.framework or DEFAULT_FRAMEWORK[model.kind]
    backend = TRITON_BACKEND[framework]
    return Serving("triton", "triton", backend, framework, (
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
    engine = model.engine
    said = f"engine: {engine} was set in the stack file"
    if engine == "vllm":
        why = said if model.is_llm else said + f" (vLLM's pooling runner serves this {model.kind} model)"
        return Serving("vllm", "vllm", None, model.framework, (why,))
    if engine == "tensorrt-llm":
        return Serving("tensorrt-llm", "triton", "tensorrtllm", None, (
            said, "TensorRT-LLM runs inside Triton; it needs an engine compiled for this GPU "
                  "architecture before it can serve"))
    if engine == "kserve-huggingface":
        return Serving("kserve-huggingface", "kserve-huggingface", None, model.framework,
                       (said + " (KServe's built-in Hugging Face runtime)",))
    if model.is_llm:
        return Serving("vllm", "triton", "vllm", None, (
            said, "an LLM on Triton goes through Triton's vLLM backend"))
    framework = model.framework or DEFAULT_FRAMEWORK[model.kind]
    return Serving("triton", "triton", TRITON_BACKEND[framework], framework,
                   (said, f"framework {framework} -> Triton's {TRITON_BACKEND[framework]} backend"))


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
    if any(m.engine == "kserve-huggingface" for m in stack.spec.models):
        reasons.append("a model asks for KServe's Hugging Face runtime, which only exists in KServe")
    if reasons:
        return "kserve", tuple(reasons) + (
            "KServe orchestrates; vLLM and Triton stay the serving runtimes underneath",)
    count = len(stack.spec.models)
    return "none", (
        f"{count} model{'s' if count != 1 else ''}, one team, no canary, traffic splitting or "
        "scale-to-zero: plain Deployments, Services and HPAs; KServe's controller, Knative or "
        "Gateway API and cert-manager would be infrastructure without a job",)


def choose_orchestration(stack: Stack) -> Orchestration:
    auto, reasons = framework_orchestration(stack)
    explicit = stack.spec.requirements.orchestration
    if explicit == "auto":
        return Orchestration(auto, reasons)
    said = f"requirements.orchestration: {explicit} was set in the stack file"
    if explicit == auto:
        return Orchestration(explicit, (said, *reasons))
    return Orchestration(explicit, (
        said, f"the framework would choose {auto}: " + "; ".join(reasons)))
