"""Safe defaults from the sizing core, filled in before vLLM starts: without maxModelLen,
a model whose full context does not fit in the KV cache of this GPU would make vLLM refuse
to start, so the runtime picks the longest power-of-two length that fits and says why.

The GPU is the one the plan placed the pod on (STACKGEN_GPU, set by `stackgen render`),
else the name nvidia-smi reports; nothing imports torch or touches the device."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from stackgen.runtime.logs import log
from stackgen.runtime.settings import EngineSettings

GPU_ENV = "STACKGEN_GPU"
MIN_LEN = 256


def detect_gpu(env: dict[str, str] | None = None):
    """The catalog GPU this pod runs on, or None when it cannot be told."""
    from stackgen.catalog import resolve_gpu

    env = os.environ if env is None else env
    names = [env[GPU_ENV]] if env.get(GPU_ENV) else _nvidia_smi_names()
    for name in names:
        try:
            return resolve_gpu(name)
        except LookupError:
            continue
    return None


def _nvidia_smi_names() -> list[str]:
    exe = shutil.which("nvidia-smi")
    if not exe:
        return []
    try:
        out = subprocess.run([exe, "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip().replace(" ", "-") for line in out.splitlines() if line.strip()]


def fill_defaults(settings: EngineSettings, model_dir: Path, device: str,
                  env: dict[str, str] | None = None) -> EngineSettings:
    """Return settings with maxModelLen set from the sizing core when it is missing."""
    if settings.max_model_len is not None or device != "cuda" or settings.runner != "generate":
        return settings
    gpu = detect_gpu(env)
    config = model_dir / "config.json"
    if gpu is None or not config.is_file():
        log("defaults.skipped", reason="unknown GPU or no config.json; vLLM's own default applies")
        return settings
    length, why = _fitting_length(settings, json.loads(config.read_text()), gpu)
    if length is None:
        log("defaults.skipped", reason=why)
        return settings
    log("defaults.max-model-len", maxModelLen=length, gpu=gpu.id, reason=why)
    return settings.model_copy(update={"max_model_len": length})


def _fitting_length(settings: EngineSettings, config: dict, gpu) -> tuple[int | None, str]:
    from stackgen.catalog.models import ConfigError, facts_from_config
    from stackgen.sizing import size

    try:
        facts = facts_from_config(config, name="model")
    except ConfigError as err:
        return None, f"config.json cannot be sized: {err}"
    def sized(max_len: int | None):
        return size(facts, gpu, settings.replace(max_model_len=max_len))
    full = sized(None)
    if full.fits:
        return None, f"the full context ({full.max_model_len}) fits: vLLM's default applies"
    tokens = full.kv_cache_tokens or 0
    if tokens < MIN_LEN:
        return None, "no KV cache left after the weights: the engine will report it"
    length = 1 << (tokens.bit_length() - 1)
    return length, (f"the full context ({full.max_model_len}) needs more than the {tokens} KV "
                    f"tokens {gpu.id} holds at utilization {settings.gpu_memory_utilization}")
