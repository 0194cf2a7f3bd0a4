"""The framework's decision tables, as data."""

from __future__ import annotations

#: The layer framework's servers (profiles/servers/ ids): LLMs on vLLM's own server, the
#: other kinds on the multi-framework server (its backends table maps frameworks).
LLM_SERVER = "vllm"
MULTI_FRAMEWORK_SERVER = "triton"

#: Framework assumed when a non-LLM model does not name one (a warning says so).
DEFAULT_FRAMEWORK = {
    "embedding": "onnx",
    "reranker": "onnx",
    "vision": "onnx",
    "speech": "python",
    "tabular": "xgboost",
    "other": "python",
}

#: GPU tier each kind prefers among the cluster's pools (the article's hybrid architecture:
#: LLMs get the biggest GPUs, embeddings the middle tier, vision the small ones, tabular
#: models CPU nodes). "largest" / "middle" / "smallest" order the GPU pools by memory;
#: "cpu" tries CPU pools first.
TIER = {
    "llm": "largest",
    "embedding": "middle",
    "reranker": "middle",
    "speech": "middle",
    "vision": "smallest",
    "tabular": "cpu",
    "other": "smallest",
}

#: Frameworks that run well on CPU nodes (Triton's FIL backend runs tree models on CPU).
CPU_FRAMEWORKS = frozenset({"xgboost", "sklearn"})

#: Requirements that call for an orchestration layer, with the reason given for each.
ORCHESTRATION_TRIGGERS = {
    "canary": "canary rollouts between model versions need revision tracking and traffic "
              "shifting (KServe's canaryTrafficPercent)",
    "traffic_splitting": "percentage-based traffic splitting needs a routing layer",
    "scale_to_zero": "scale-to-zero needs KServe's serverless mode (Knative)",
}
