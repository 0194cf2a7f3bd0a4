"""The engine settings: what `stackgen render` writes for one model and the runtime reads.

The file is YAML or JSON (JSON is YAML). Keys are camelCase like the stack file; unknown
keys are an error. `stackgen render` imports :class:`EngineSettings` and writes
``settings.to_document()`` into the model's ConfigMap; `stackgen-runtime` loads it with
:func:`load_settings`. The schema is documented in docs/runtime.md.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from stackgen.runtime.errors import RuntimeInputError

API_VERSION = "stackgen.dev/v1alpha1"
KIND = "EngineSettings"
SOURCE_SCHEMES = ("hf://", "pvc://", "s3://", "gs://", "file://")


class EngineSettings(BaseModel):
    """Engine settings for one served model (one vLLM OpenAI server)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    apiVersion: Literal["stackgen.dev/v1alpha1"] = API_VERSION
    kind: Literal["EngineSettings"] = KIND
    model: str = Field(
        min_length=1,
        description="hf://org/name[@revision], pvc://claim/path, s3://bucket/prefix, "
        "gs://bucket/prefix, or a local folder",
    )
    servedModelName: str | None = Field(default=None, min_length=1)
    runner: Literal["generate", "pooling"] = "generate"
    device: Literal["auto", "cuda", "cpu"] = "auto"
    tensorParallelSize: int = Field(default=1, ge=1, le=64)
    pipelineParallelSize: int = Field(default=1, ge=1, le=64)
    nodes: int = Field(default=1, ge=1, le=64)  # pods in a multi-node group (LeaderWorkerSet size)
    maxModelLen: int | None = Field(default=None, ge=16)
    gpuMemoryUtilization: float = Field(default=0.9, gt=0.0, le=1.0)
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"
    quantization: Literal["none", "fp8", "awq", "gptq"] = "none"
    kvCacheDtype: Literal["auto", "fp8", "fp8_e4m3", "fp8_e5m2"] = "auto"
    host: str = "0.0.0.0"
    port: int = Field(default=8000, ge=1, le=65535)
    shutdownGracePeriodSeconds: int = Field(default=30, ge=0, le=3600)
    modelCacheDir: str | None = None
    pvcMountRoot: str = "/mnt/models"
    cpuKvCacheSpaceGiB: int | None = Field(default=None, ge=1)
    trustRemoteCode: bool = False
    extraArgs: list[str] = Field(default_factory=list)

    @field_validator("model")
    @classmethod
    def _model_source(cls, value: str) -> str:
        if "://" in value and not value.startswith(SOURCE_SCHEMES):
            scheme = value.split("://", 1)[0]
            raise ValueError(
                f"unknown scheme {scheme!r}; expected one of "
                + ", ".join(SOURCE_SCHEMES)
                + " or a local path"
            )
        return value

    @field_validator("extraArgs")
    @classmethod
    def _extra_args(cls, value: list[str]) -> list[str]:
        managed = {"--model", "--host", "--port", "--served-model-name"}
        for arg in value:
            if arg.split("=", 1)[0] in managed:
                raise ValueError(f"{arg!r} is set by its own field, not by extraArgs")
        return value

    @property
    def gpus_needed(self) -> int:
        return self.tensorParallelSize * self.pipelineParallelSize

    def to_document(self) -> dict[str, Any]:
        """The dict to write (YAML or JSON) into a ConfigMap; round-trips through load."""
        return self.model_dump(mode="json")


def _describe(error: dict[str, Any]) -> str:
    path = ".".join(str(p) for p in error["loc"]) or "(document)"
    detail = error["msg"]
    if error["type"] == "extra_forbidden":
        detail = "unknown key (see docs/runtime.md for the keys allowed)"
    elif error["type"] != "missing" and "input" in error:
        detail += f" (got {json.dumps(error['input'], default=str)})"
    return f"field `{path}`: {detail}"


def validate_settings(data: Any, source: str) -> EngineSettings:
    """Validates a parsed document; raises RuntimeInputError naming source and fields."""
    if not isinstance(data, dict):
        raise RuntimeInputError(
            f"{source}: expected a mapping of engine settings at the top level, "
            f"got {type(data).__name__}. See docs/runtime.md for the schema.",
            event="settings.invalid",
            file=source,
        )
    try:
        return EngineSettings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors())
        raise RuntimeInputError(
            f"{source}: invalid engine settings: {problems}. "
            "Fix the file (or the stack it was rendered from); the schema is in docs/runtime.md.",
            event="settings.invalid",
            file=source,
            fields=[".".join(str(p) for p in e["loc"]) for e in exc.errors()],
        ) from None


def parse_text(text: str, source: str) -> Any:
    """Parses YAML (which includes JSON); raises RuntimeInputError on a syntax error."""
    import yaml

    try:
        return yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise RuntimeInputError(
            f"{source}: not valid YAML or JSON{where}: {getattr(exc, 'problem', exc)}.",
            event="settings.invalid",
            file=source,
        ) from None


def load_settings(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Reads a settings file into a plain dict (validated later, after flag overrides)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuntimeInputError(
            f"{file}: cannot read the engine settings file ({exc.strerror}). "
            "Pass --config with the path of the mounted settings file.",
            event="settings.unreadable",
            file=str(file),
        ) from None
    data = parse_text(text, str(file))
    if not isinstance(data, dict):
        validate_settings(data, str(file))
    return data
