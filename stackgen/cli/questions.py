"""The `stackgen init` questionnaire: each question is data that knows how to prompt,
validate and parse its answer (the copier pattern). Answers merge by precedence:
--set flags > --answers file > existing stack file / cluster discovery > defaults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from stackgen.spec import models as spec
from stackgen.spec.models import DNS1123_LABEL, SOURCE

KINDS = ["llm", "embedding", "reranker", "vision", "speech", "tabular", "other"]
FRAMEWORKS = ["onnx", "pytorch", "tensorflow", "tensorrt", "xgboost", "sklearn", "python"]
PROVIDERS = ["generic", "gke", "eks", "aks"]
ORCHESTRATION = ["auto", "none", "kserve"]
REQUIRED = object()


def _dns(value: str) -> str | None:
    if len(value) <= 63 and DNS1123_LABEL.match(value):
        return None
    return "lower-case letters, digits and '-', at most 63 characters (e.g. llama-chat)"


def _source(value: str) -> str | None:
    return None if SOURCE.match(value) else "hf://org/name, s3://bucket/path, gs://bucket/path or pvc://claim/path"


def _positive(value: Any) -> str | None:
    try:
        return None if float(value) > 0 else "a number above 0"
    except (TypeError, ValueError):
        return "a number above 0"


def _count(value: Any) -> str | None:
    try:
        return None if int(str(value)) >= 0 and float(value) == int(str(value)) else "a whole number >= 0"
    except (TypeError, ValueError):
        return "a whole number >= 0"


def _at_least_one(value: Any) -> str | None:
    """Counts that make no sense as zero in a new stack (teams, nodes, GPUs per node)."""
    return _count(value) or (None if int(str(value)) >= 1 else "a whole number >= 1")


def _optional_positive(value: Any) -> str | None:
    return None if value in ("", None) else _positive(value)


@dataclass(frozen=True)
class Question:
    key: str                              # answer key, relative to its group
    prompt: str
    kind: str = "text"                    # text | int | float | bool | select
    default: Any = REQUIRED
    choices: tuple[str, ...] = ()
    check: Callable[[Any], str | None] | None = None
    when: Callable[[dict, dict], bool] = field(default=lambda group, top: True)
    help: str = ""
    spec_field: tuple[type, str] | None = None  # (model class, field): validate like the stack file

    def parse(self, raw: Any) -> Any:
        """Turn an answer (typed, from YAML, or from --set) into its value; ValueError if bad."""
        if raw is None or raw == "":
            if self.default is REQUIRED:
                raise ValueError("an answer is required")
            return self.default
        if self.kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"y", "yes", "true", "1", "on"}:
                return True
            if text in {"n", "no", "false", "0", "off"}:
                return False
            raise ValueError("yes or no")
        if self.kind == "select" and str(raw) not in self.choices:
            raise ValueError(f"one of: {', '.join(self.choices)}")
        problem = self.check(raw) if self.check else None
        if problem:
            raise ValueError(problem)
        if self.kind == "int":
            value: Any = int(str(raw))
        elif self.kind == "float":
            number = float(raw)
            value = int(number) if number.is_integer() else number
        else:
            value = str(raw)
        return self._spec_check(value)

    def _spec_check(self, value: Any) -> Any:
        """Validate with the stack file's own field type, so limits live in one place."""
        if self.spec_field is None:
            return value
        cls, name = self.spec_field
        try:
            TypeAdapter(cls.model_fields[name].annotation).validate_python(value)
        except ValidationError as err:
            raise ValueError(err.errors()[0]["msg"].removeprefix("Value error, ").lower()) from None
        return value


STACK_QUESTIONS = (
    Question("name", "Stack name", check=_dns, help="names every rendered resource"),
    Question("namespace", "Kubernetes namespace", default="default", check=_dns),
    Question("provider", "Cluster provider (node-label conventions)", "select", "generic",
             tuple(PROVIDERS)),
    Question("teams", "How many teams deploy models on this platform?", "int", 1, check=_at_least_one,
             spec_field=(spec.Requirements, "teams")),
    Question("canary", "Canary rollouts between model versions?", "bool", False),
    Question("trafficSplitting", "Percentage traffic splitting (A/B)?", "bool", False),
    Question("scaleToZero", "Scale idle models to zero to save GPU cost?", "bool", False),
    Question("unifiedApi", "One inference API for every model (Triton, vLLM backend for LLMs)?",
             "bool", False),
    Question("orchestration", "Orchestration layer (auto lets the framework decide)", "select",
             "auto", tuple(ORCHESTRATION)),
)


def pool_questions(gpu_ids: list[str]) -> tuple[Question, ...]:
    return (
        Question("name", "Node pool name", check=_dns),
        Question("gpu", "GPU type (none for a CPU pool)", "select", gpu_ids[0],
                 tuple(gpu_ids) + ("none",)),
        Question("nodes", "Number of nodes", "int", 1, check=_at_least_one,
                 spec_field=(spec.NodePool, "nodes")),
        Question("gpusPerNode", "GPUs per node", "int", 8, check=_at_least_one,
                 spec_field=(spec.NodePool, "gpus_per_node"),
                 when=lambda group, top: group.get("gpu") != "none"),
    )


MODEL_QUESTIONS = (
    Question("name", "Model name (used in resource names)", check=_dns),
    Question("source", "Model source", check=_source,
             help="e.g. hf://meta-llama/Llama-3.1-8B-Instruct or pvc://models/llama"),
    Question("kind", "Model kind", "select", "llm", tuple(KINDS)),
    Question("framework", "Framework", "select", "onnx", tuple(FRAMEWORKS),
             when=lambda group, top: group.get("kind") != "llm"),
    Question("peakRps", "Peak requests per second", "float", 1, check=_positive,
             spec_field=(spec.Traffic, "peak_rps")),
    Question("avgInputTokens", "Average input tokens", "int", 512, check=_count,
             spec_field=(spec.Traffic, "avg_input_tokens"),
             when=lambda group, top: group.get("kind") == "llm"),
    Question("avgOutputTokens", "Average output tokens", "int", 256, check=_count,
             spec_field=(spec.Traffic, "avg_output_tokens"),
             when=lambda group, top: group.get("kind") == "llm"),
    Question("p95LatencyMs", "p95 latency SLO in ms (empty for none)", "float", None,
             check=_optional_positive, spec_field=(spec.Slo, "p95_latency_ms")),
    Question("team", "Team that owns it", default="default", check=_dns,
             when=lambda group, top: int(top.get("teams", 1) or 1) > 1),
)
