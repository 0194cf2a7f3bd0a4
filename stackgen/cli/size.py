"""`stackgen size`: weights, KV cache and concurrency of a model on a GPU, as vLLM sizes them."""

from __future__ import annotations

import typer

from stackgen.cli.options import output_format


def size(
    model: str = typer.Option(..., "--model", help="Catalog name, HF id, or path to a config.json (or its folder)."),
    gpu: str = typer.Option(..., "--gpu", help="GPU id or alias (h100-80gb, H100, l4), or the path to a GPU "
                                             "profile YAML file (docs/extending.md)."),
    tp: int = typer.Option(1, "--tp", help="Tensor parallel size."),
    pp: int = typer.Option(1, "--pp", help="Pipeline parallel size."),
    gpu_memory_utilization: float = typer.Option(
        None, "--gpu-memory-utilization",
        help="vLLM's memory fraction (default: the release's own: 0.92 since vLLM 0.20, 0.9 before)."),
    max_model_len: int = typer.Option(None, "--max-model-len", help="Context length (default: the model's)."),
    dtype: str = typer.Option("auto", "--dtype", help="auto | bfloat16 | float16"),
    quantization: str = typer.Option("none", "--quantization",
                                     help="none | fp8 | awq | gptq | awq_marlin | gptq_marlin | mxfp4 | nvfp4 | int8"),
    kv_cache_dtype: str = typer.Option("auto", "--kv-cache-dtype", help="auto | fp8"),
    eager: bool = typer.Option(False, "--enforce-eager",
                               help="vLLM's --enforce-eager: no torch.compile and no CUDA graphs."),
    max_num_seqs: int = typer.Option(None, "--max-num-seqs", help="vLLM's --max-num-seqs (default: vLLM's for the GPU)."),
    max_num_batched_tokens: int = typer.Option(
        None, "--max-num-batched-tokens", help="vLLM's --max-num-batched-tokens (default: vLLM's for the GPU)."),
    input_tokens: int = typer.Option(None, "--input-tokens", help="Prompt tokens per request: predict performance.",
                                     rich_help_panel="Performance"),
    output_tokens: int = typer.Option(None, "--output-tokens", help="Output tokens per request.",
                                      rich_help_panel="Performance"),
    concurrency: float = typer.Option(None, "--concurrency",
                                      help="Requests kept in flight (as `vllm bench serve --max-concurrency`).",
                                      rich_help_panel="Performance"),
    request_rate: float = typer.Option(None, "--request-rate", help="Poisson arrivals per second on one replica.",
                                       rich_help_panel="Performance"),
    vllm_version: str = typer.Option(None, "--vllm-version", metavar="X.Y[.Z]",
                                     help="The vLLM release you run: size with its memory accounting (0.2 to 0.32; "
                                          "default 0.32, the reference runtime's)."),
    output: str = output_format("size"),
) -> None:
    """Size a model on a GPU: weights, KV cache, concurrency; with --input-tokens,
    --output-tokens and a load (--concurrency or --request-rate) also TTFT, TPOT, latency
    and throughput. Exit 1 when it does not fit."""
    from stackgen.cli.jsonout import json_output

    with json_output(output) as out:   # -o json: one JSON document on every exit
        from stackgen.catalog import model_names, resolve_gpu, resolve_model
        from stackgen.errors import CheckFailed, InputError
        from stackgen.sizing import fit_hint
        from stackgen.sizing import size as size_model

        if gpu.endswith((".yaml", ".yml")) or "/" in gpu:
            from stackgen.catalog.gpus import load_gpu_file

            gpu_profile = load_gpu_file(gpu)
        else:
            try:
                gpu_profile = resolve_gpu(gpu)
            except LookupError as err:
                raise InputError(str(err).strip("'\""), field="--gpu",
                                 fix="pass one of the GPU ids above, or the path to a GPU profile file") from None
        facts = resolve_model(model)
        if facts is None:
            raise InputError(f"unknown model '{model}'", field="--model",
                             fix=f"pass a path to the model's config.json, or one of: {', '.join(model_names())}")
        workload = _workload(input_tokens, output_tokens, concurrency, request_rate)
        release = _release(vllm_version, facts, gpu_profile)
        if gpu_memory_utilization is None:
            gpu_memory_utilization = release.gpu_memory_utilization
        settings = _settings(tensor_parallel_size=tp, pipeline_parallel_size=pp,
                             gpu_memory_utilization=gpu_memory_utilization, max_model_len=max_model_len,
                             dtype=dtype, quantization=quantization, kv_cache_dtype=kv_cache_dtype,
                             max_num_seqs=max_num_seqs, max_num_batched_tokens=max_num_batched_tokens,
                             extra_args=["--enforce-eager"] if eager else [])
        result = size_model(facts, gpu_profile, settings, release)
        if not result.fits and facts.is_llm:
            from stackgen.sizing.core import with_suggestion

            result = with_suggestion(result, fit_hint(facts, gpu_profile, settings, release))
        data = result.to_json()
        data["vllmVersion"], data["accounting"] = release.version, release.profiler
        data["modelRunner"] = release.model_runner
        data["gpuMemoryUtilization"] = result.gpu_memory_utilization
        if workload is not None and not facts.is_llm:
            data["notes"].append(f"performance is predicted for LLMs only; {facts.name} is not one ({facts.kind})")
            data["performance"] = None
        elif workload is not None:
            data["performance"] = _performance(facts, gpu_profile, result, workload)
        if output == "json":
            out.echo(data)
        else:
            typer.echo(_text(result, data.get("performance"), data["notes"], release, eager))
        if not result.fits:
            raise CheckFailed(f"{facts.name} does not fit on {result.gpu} with these settings")


#: engine-settings field (document spelling) -> the flag of `stackgen size` that sets it
FLAGS = {"tensorParallelSize": "--tp", "pipelineParallelSize": "--pp",
         "gpuMemoryUtilization": "--gpu-memory-utilization", "maxModelLen": "--max-model-len",
         "dtype": "--dtype", "quantization": "--quantization", "kvCacheDtype": "--kv-cache-dtype",
         "maxNumSeqs": "--max-num-seqs", "maxNumBatchedTokens": "--max-num-batched-tokens"}


def _release(version: str | None, facts, gpu):
    """The vLLM release to size with (its accounting and defaults); a version outside the
    modelled releases is exit 2."""
    from stackgen.errors import InputError
    from stackgen.sizing.releases import PINNED, UnsupportedVersion, release_for

    try:
        return release_for(version or PINNED, facts, gpu)
    except UnsupportedVersion as err:
        raise InputError(str(err), field="--vllm-version", fix=f"pass a release from 0.2 to {PINNED}") from None


def _workload(input_tokens, output_tokens, concurrency, request_rate):
    """The load to predict performance at, or None when no performance flag is given;
    an incomplete or contradictory set is exit 2 naming the flag."""
    from stackgen.errors import InputError
    from stackgen.perf import Workload

    given = {"--input-tokens": input_tokens, "--output-tokens": output_tokens,
             "--concurrency": concurrency, "--request-rate": request_rate}
    if all(v is None for v in given.values()):
        return None
    for flag in ("--input-tokens", "--output-tokens"):
        if given[flag] is None:
            raise InputError(f"{flag} is missing: performance needs the prompt and output lengths",
                             field=flag, fix="pass --input-tokens N --output-tokens N with --concurrency or --request-rate")
        if not 1 <= given[flag] <= 10_000_000:
            raise InputError(f"{flag} must be between 1 and 10000000, got {given[flag]}", field=flag,
                             fix="a token count per request")
    if concurrency is None and request_rate is None:
        raise InputError("no load given: performance is predicted at a concurrency or a request rate",
                         field="--concurrency", fix="pass --concurrency N (requests in flight) or --request-rate R (per second)")
    if concurrency is not None and request_rate is not None:
        raise InputError("--concurrency and --request-rate are alternatives", field="--request-rate",
                         fix="pass one of them: a closed loop of N requests, or Poisson arrivals at R per second")
    for flag, value, high in (("--concurrency", concurrency, 1_000_000), ("--request-rate", request_rate, 1_000_000)):
        if value is not None and (value != value or not 0 < value <= high):   # NaN, zero, negative, huge
            raise InputError(f"{flag} must be a number above 0 and at most {high:,}, got {value}", field=flag,
                             fix=f"e.g. {flag} 16")
    return Workload(input_tokens=input_tokens, output_tokens=output_tokens, concurrency=concurrency,
                    request_rate=request_rate)


def _performance(facts, gpu, result, workload) -> dict | None:
    """The `performance` object of `size --output json` (None when the model does not fit);
    a request longer than max-model-len or the KV cache is exit 2, as vLLM refuses it."""
    from stackgen.errors import InputError
    from stackgen.perf import RequestTooLong, load_params, predict, replica_for

    if not result.fits:
        return None
    total = workload.input_tokens + workload.output_tokens
    if result.max_model_len is not None and total > result.max_model_len:
        raise InputError(f"--input-tokens + --output-tokens ({total:,}) exceed max-model-len "
                         f"{result.max_model_len:,}: vLLM rejects such requests", field="--input-tokens",
                         fix="shorten the request or raise --max-model-len")
    params = load_params()
    try:
        return predict(replica_for(facts, gpu, result, params), params, workload).to_json(dict(params.error_band))
    except RequestTooLong as err:
        raise InputError(str(err), field="--input-tokens", fix="shorten the request, add GPUs (--tp) or use an fp8 KV cache") from None


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


def _text(result, perf: dict | None = None, notes: list[str] | None = None, release=None,
          eager: bool = False) -> str:
    from stackgen.sizing.releases import PINNED_RELEASE

    data = result.to_json()
    release = release or PINNED_RELEASE
    runner = {"v2": "Model Runner V2", "v1": "V1 model runner", "v0": "V0 engine"}[release.model_runner]
    rows = [("model", data["model"]), ("gpu", data["gpu"]),
            ("vLLM release", f"{release.version} ({runner}; accounting {release.profiler})"),
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
    if perf:
        load = f"{perf['concurrency']:g} in flight" + (" (saturated)" if perf["saturated"] else "")
        rows += [("concurrency", load),
                 ("TTFT / TPOT", f"{perf['ttftMs']:g} ms / {perf['tpotMs']:g} ms (HBM floor {perf['hbmFloorTpotMs']:g} ms)"),
                 ("latency mean / p95", f"{perf['e2eLatencyMs']:,.0f} ms / {perf['p95LatencyMs']:,.0f} ms"),
                 ("throughput", f"{perf['outputTokensPerS']:,.0f} output tokens/s, {perf['requestsPerS']:g} requests/s"),
                 ("bound by", perf["bound"])]
        width = max(len(k) for k, _ in rows)
        lines = [f"{k:<{width}}  {'-' if v is None else v}" for k, v in rows]
    lines += [f"note: {n}" for n in (data["notes"] if notes is None else notes)]
    if perf:
        band = perf.get("errorBand", {})
        lines.append("note: performance is a model (docs/performance-model.md): TTFT "
                     f"{band.get('ttftMs')} ms, TPOT {band.get('tpotMs')} ms (4 in 5 published cases fall in such a band)")
    if data["kvCacheTokens"] is not None and release.compile_scratch and not eager:
        lines.append("note: a warm start; with an empty torch.compile cache vLLM charges the compile's "
                     "scratch to the KV budget (about 1 GiB per GPU on an 8B model, docs/sizing.md)")
    return "\n".join(lines)
