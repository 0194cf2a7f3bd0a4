"""`stackgen size`: weights, KV cache and concurrency of a model on a GPU, as vLLM sizes them."""

from __future__ import annotations

import typer

from stackgen.cli.options import output_format


def size(
    model: str = typer.Option(..., "--model", help="Catalog name, HF id, or path to a config.json (or its folder)."),
    gpu: str = typer.Option(..., "--gpu", help="GPU id or alias, e.g. h100-80gb, H100, l4."),
    tp: int = typer.Option(1, "--tp", help="Tensor parallel size."),
    pp: int = typer.Option(1, "--pp", help="Pipeline parallel size."),
    gpu_memory_utilization: float = typer.Option(
        0.92, "--gpu-memory-utilization",  # = sizing.engine.VLLM_GPU_MEMORY_UTILIZATION (kept literal: fast --help)
        help="vLLM's memory fraction (vLLM 0.32's default: 0.92)."),
    max_model_len: int = typer.Option(None, "--max-model-len", help="Context length (default: the model's)."),
    dtype: str = typer.Option("auto", "--dtype", help="auto | bfloat16 | float16"),
    quantization: str = typer.Option("none", "--quantization", help="none | fp8 | awq | gptq"),
    kv_cache_dtype: str = typer.Option("auto", "--kv-cache-dtype", help="auto | fp8"),
    output: str = output_format("size"),
) -> None:
    """Size a model on a GPU: weights, KV cache, concurrency. Exit 1 when it does not fit."""
    import json

    from stackgen.catalog import model_names, resolve_gpu, resolve_model
    from stackgen.errors import CheckFailed, InputError
    from stackgen.sizing import fit_hint
    from stackgen.sizing import size as size_model

    try:
        gpu_profile = resolve_gpu(gpu)
    except LookupError as err:
        raise InputError(str(err).strip("'\""), field="--gpu", fix="pass one of the GPU ids above") from None
    facts = resolve_model(model)
    if facts is None:
        raise InputError(f"unknown model '{model}'", field="--model",
                         fix=f"pass a path to the model's config.json, or one of: {', '.join(model_names())}")
    settings = _settings(tensor_parallel_size=tp, pipeline_parallel_size=pp,
                         gpu_memory_utilization=gpu_memory_utilization, max_model_len=max_model_len,
                         dtype=dtype, quantization=quantization, kv_cache_dtype=kv_cache_dtype)
    result = size_model(facts, gpu_profile, settings)
    if not result.fits and facts.is_llm:
        from stackgen.sizing.core import with_suggestion

        result = with_suggestion(result, fit_hint(facts, gpu_profile, settings))
    if output == "json":
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        typer.echo(_text(result))
    if not result.fits:
        raise CheckFailed(f"{facts.name} does not fit on {result.gpu} with these settings")


#: engine-settings field (document spelling) -> the flag of `stackgen size` that sets it
FLAGS = {"tensorParallelSize": "--tp", "pipelineParallelSize": "--pp",
         "gpuMemoryUtilization": "--gpu-memory-utilization", "maxModelLen": "--max-model-len",
         "dtype": "--dtype", "quantization": "--quantization", "kvCacheDtype": "--kv-cache-dtype"}


def _settings(**values):
    """The engine settings contract from the flags; a bad value names its flag (exit 2)."""
    from stackgen.engine_settings import SettingsError, settings_from
    from stackgen.errors import InputError, InputErrors

    try:
        return settings_from(**values)
    except SettingsError as err:
        raise InputErrors([InputError(message, field=FLAGS.get(name, name),
                                      fix="see `stackgen size --help` for the values allowed")
                           for name, message in err.problems]) from None


def _text(result) -> str:
    data = result.to_json()
    rows = [("model", data["model"]), ("gpu", data["gpu"]),
            ("tensor x pipeline parallel", f"{data['tensorParallelSize']} x {data['pipelineParallelSize']}"),
            ("dtype / quantization", f"{data['dtype']} / {data['quantization']} (KV cache {result.kv_cache_dtype})"),
            ("max model len", data["maxModelLen"]),
            ("gpu memory utilization", f"{result.gpu_memory_utilization:g}"),
            ("weights per GPU", f"{data['weightsGiBPerGpu']} GiB"),
            ("activation + non-torch", f"{(result.activation_bytes + result.non_torch_bytes) / 2**30:.2f} GiB"),
            ("KV cache per GPU", f"{data['kvCacheGiBPerGpu']} GiB"),
            ("KV cache tokens", "n/a" if data["kvCacheTokens"] is None else f"{data['kvCacheTokens']:,}"),
            ("max concurrency", "n/a" if data["maxConcurrency"] is None else f"{data['maxConcurrency']:.2f}"),
            ("fits", "yes" if data["fits"] else "NO")]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k:<{width}}  {'-' if v is None else v}" for k, v in rows]
    lines += [f"note: {n}" for n in data["notes"]]
    if data["kvCacheTokens"] is not None:
        lines.append("note: a warm start; with an empty torch.compile cache vLLM charges the compile's "
                     "scratch to the KV budget (about 1 GiB per GPU on an 8B model, docs/sizing.md)")
    return "\n".join(lines)
