"""The engine settings contract: one vLLM engine (one served model), as one document.

This is the single definition that every part of stackgen shares:

- `stackgen render` writes it for each vLLM model (a ConfigMap key ``engine.yaml`` for
  standalone Deployments/LeaderWorkerSets, the ``STACKGEN_ENGINE_SETTINGS`` env value of a
  KServe predictor);
- `stackgen-runtime` reads it, applies its flags on top and starts vLLM with
  :func:`vllm_flags`;
- `stackgen size` and the plan's sizing take the same object (what vLLM would do with it);
- `stackgen lint` resolves it from the ConfigMap or env a pod mounts and checks it like the
  command line it becomes (:func:`vllm_flags` again).

The document's keys are camelCase (like the stack file); Python code uses the snake_case
attributes. Unknown keys are an error. The schema is documented in docs/runtime.md.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

API_VERSION = "stackgen.dev/v1alpha1"
KIND = "EngineSettings"
#: vLLM's own `--gpu-memory-utilization` default since 0.20 (`CacheConfig`, PR #38284): what
#: a document without the key gets, and what `stackgen size` assumes unless told.
VLLM_GPU_MEMORY_UTILIZATION = 0.92
#: What `stackgen render` writes unless the stack sets spec.render.gpuMemoryUtilization: a
#: deliberate margin below vLLM's default (docs/sizing.md).
RENDER_GPU_MEMORY_UTILIZATION = 0.9
SOURCE_SCHEMES = ("hf://", "pvc://", "s3://", "gs://", "file://")
#: engine flags that have a field of their own (and that the runtime sets itself)
MANAGED_FLAGS = ("--model", "--host", "--port", "--served-model-name")

Dtype = Literal["auto", "bfloat16", "float16", "float32"]
Quantization = Literal["none", "fp8", "awq", "gptq", "awq_marlin", "gptq_marlin", "mxfp4", "nvfp4", "int8"]
#: stackgen's quantization names -> vLLM's `--quantization` values where they differ (NVFP4
#: checkpoints are NVIDIA ModelOpt's; int8 W8A8 ones are llm-compressor's compressed-tensors)
VLLM_QUANTIZATION = {"nvfp4": "modelopt_fp4", "int8": "compressed-tensors"}
KvCacheDtype = Literal["auto", "fp8", "fp8_e4m3", "fp8_e5m2"]
Runner = Literal["generate", "pooling"]

#: field -> vLLM flag, in the order the runtime passes them (fixed: commands compare)
_FLAGS = (
    ("runner", "--runner"), ("tensor_parallel_size", "--tensor-parallel-size"),
    ("pipeline_parallel_size", "--pipeline-parallel-size"), ("dtype", "--dtype"),
    ("kv_cache_dtype", "--kv-cache-dtype"), ("gpu_memory_utilization", "--gpu-memory-utilization"),
    ("shutdown_grace_period_seconds", "--shutdown-timeout"), ("max_model_len", "--max-model-len"),
    ("max_num_batched_tokens", "--max-num-batched-tokens"), ("max_num_seqs", "--max-num-seqs"),
)


class EngineSettings(BaseModel):
    """Engine settings for one served model (one vLLM OpenAI server)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              alias_generator=to_camel)

    api_version: Literal["stackgen.dev/v1alpha1"] = API_VERSION
    kind: Literal["EngineSettings"] = KIND
    model: str | None = Field(
        default=None, min_length=1,
        description="hf://org/name[@revision], pvc://claim/path, s3://bucket/prefix, "
        "gs://bucket/prefix, or a local folder (required by the runtime)")
    served_model_name: str | None = Field(default=None, min_length=1)
    runner: Runner = "generate"
    device: Literal["auto", "cuda", "cpu"] = "auto"
    tensor_parallel_size: int = Field(default=1, ge=1, le=64)
    pipeline_parallel_size: int = Field(default=1, ge=1, le=64)
    nodes: int = Field(default=1, ge=1, le=64)  # pods in a multi-node group (LeaderWorkerSet size)
    max_model_len: int | None = Field(default=None, ge=16)
    gpu_memory_utilization: float = Field(default=VLLM_GPU_MEMORY_UTILIZATION, gt=0.0, le=1.0)
    dtype: Dtype = "auto"
    quantization: Quantization = "none"
    kv_cache_dtype: KvCacheDtype = "auto"
    #: None: vLLM's own default for the GPU (stackgen.sizing.engine.batching_defaults)
    max_num_batched_tokens: int | None = Field(default=None, ge=1)
    max_num_seqs: int | None = Field(default=None, ge=1)
    host: str = "0.0.0.0"
    port: int = Field(default=8000, ge=1, le=65535)
    shutdown_grace_period_seconds: int = Field(default=30, ge=0, le=3600)
    model_cache_dir: str | None = None
    pvc_mount_root: str = "/mnt/models"
    cpu_kv_cache_space_gib: int | None = Field(default=None, ge=1, alias="cpuKvCacheSpaceGiB")
    trust_remote_code: bool = False
    extra_args: list[str] = Field(default_factory=list)

    @field_validator("model")
    @classmethod
    def _model_source(cls, value: str | None) -> str | None:
        if value and "://" in value and not value.startswith(SOURCE_SCHEMES):
            scheme = value.split("://", 1)[0]
            raise ValueError(f"unknown scheme {scheme!r}; expected one of "
                             + ", ".join(SOURCE_SCHEMES) + " or a local path")
        return value

    @field_validator("extra_args")
    @classmethod
    def _extra_args(cls, value: list[str]) -> list[str]:
        for arg in value:
            if arg.split("=", 1)[0] in MANAGED_FLAGS:
                raise ValueError(f"{arg!r} is set by its own field, not by extraArgs")
        return value

    @property
    def gpus_needed(self) -> int:
        return self.tensor_parallel_size * self.pipeline_parallel_size

    def replace(self, **changes: Any) -> EngineSettings:
        """A copy with `changes` (snake_case names), validated like the original."""
        return type(self).model_validate({**self.model_dump(), **changes})

    def to_document(self) -> dict[str, Any]:
        """The dict to write (YAML or JSON); round-trips through :func:`parse_settings`."""
        return self.model_dump(mode="json", by_alias=True)


def vllm_flags(settings: EngineSettings) -> list[str]:
    """The vLLM flags (0.32 names) these settings mean, except the model, served name,
    host and port (the runtime resolves those); extraArgs last, as given."""
    args: list[str] = []
    for name, flag in _FLAGS:
        value = getattr(settings, name)
        if value is not None:
            args += [flag, str(value)]
    if settings.quantization != "none":
        args += ["--quantization", VLLM_QUANTIZATION.get(settings.quantization, settings.quantization)]
    if settings.trust_remote_code:
        args.append("--trust-remote-code")
    return args + list(settings.extra_args)


class SettingsError(ValueError):
    """A settings document that breaks the contract; `problems` are (field, message)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"field `{f}`: {m}" for f, m in problems))
        self.problems = problems

    @property
    def fields(self) -> list[str]:
        return [f for f, _ in self.problems]


def _key(part: Any) -> str:
    """A location part in the document's spelling (camelCase), whatever the caller used."""
    field = EngineSettings.model_fields.get(str(part))
    return (field.alias or str(part)) if field else str(part)


def _problem(error: dict[str, Any]) -> tuple[str, str]:
    path = ".".join(_key(p) for p in error["loc"]) or "(document)"
    detail = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        detail = "unknown key (see docs/runtime.md for the keys allowed)"
    elif error["type"] != "missing" and "input" in error:
        detail += f" (got {json.dumps(error['input'], default=str)})"
    return path, detail


def parse_settings(data: Any) -> EngineSettings:
    """Validate a parsed document (camelCase keys); SettingsError names every bad field."""
    if not isinstance(data, dict):
        raise SettingsError([("(document)", "expected a mapping of engine settings, got "
                              + type(data).__name__)])
    try:
        return EngineSettings.model_validate({**data, "apiVersion": data.get("apiVersion", API_VERSION)})
    except ValidationError as exc:
        raise SettingsError([_problem(e) for e in exc.errors()]) from None


def settings_from(**values: Any) -> EngineSettings:
    """Settings from snake_case values (flags of a CLI); SettingsError on a bad value."""
    try:
        return EngineSettings(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        raise SettingsError([_problem(e) for e in exc.errors()]) from None
