"""stackgen-runtime as a user runs it, without starting vLLM: bad input fails fast with
exit 2 and a clear message; settings, flags and model sources become the engine command
(shown by --dry-run)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from runtime_harness import RUNTIME_PY, cli_command, run_cli, runtime_available


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def model_folder(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text("{}")
    return root


def assert_bad_input(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    message = [line for line in result.stderr.splitlines() if line.startswith("stackgen-runtime: error:")]
    assert len(message) == 1, result.stderr
    for needle in needles:
        assert needle in message[0], (needle, message[0])


def dry_run(*args: str, **env: str) -> dict:
    result = run_cli(["--dry-run", *args], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_missing_model_path_fails_fast(tmp_path):
    cfg = write(tmp_path / "engine.yaml", f"model: {tmp_path / 'nope'}\n")
    started = time.monotonic()
    result = run_cli(["--config", str(cfg)])
    assert_bad_input(result, str(tmp_path / "nope"), "does not exist")
    assert time.monotonic() - started < 20
    assert '"event": "model.missing"' in result.stderr


def test_folder_without_config_json_is_not_a_model(tmp_path):
    (tmp_path / "weights").mkdir()
    assert_bad_input(run_cli(["--model", str(tmp_path / "weights")]), "no config.json")


def test_wrong_tp_for_visible_gpus_fails_fast(tmp_path):
    model = model_folder(tmp_path / "m")
    cfg = write(tmp_path / "engine.yaml",
                f"model: {model}\ndevice: cuda\ntensorParallelSize: 2\n")
    result = run_cli(["--config", str(cfg)], CUDA_VISIBLE_DEVICES="0")
    assert_bad_input(result, "tensorParallelSize 2", "= 2 GPU(s)", "1 are visible",
                     "CUDA_VISIBLE_DEVICES='0'")
    assert '"event": "devices.mismatch"' in result.stderr


def test_tp_times_pp_counts_against_visible_gpus(tmp_path):
    model = model_folder(tmp_path / "m")
    cfg = write(tmp_path / "engine.yaml", f"model: {model}\ndevice: cuda\n"
                "tensorParallelSize: 2\npipelineParallelSize: 2\n")
    assert_bad_input(run_cli(["--config", str(cfg)], CUDA_VISIBLE_DEVICES="0,1,2"),
                     "= 4 GPU(s)", "3 are visible")
    ok = dry_run("--config", str(cfg), CUDA_VISIBLE_DEVICES="0,1,2,3")
    assert flag(ok["argv"], "--tensor-parallel-size") == "2"
    assert flag(ok["argv"], "--pipeline-parallel-size") == "2"


def test_multi_node_pod_needs_only_its_share(tmp_path):
    """A LeaderWorkerSet leader with TP 4 x PP 2 over 2 pods needs 4 GPUs of its own."""
    model = model_folder(tmp_path / "m")
    cfg = write(tmp_path / "engine.yaml", f"model: {model}\ndevice: cuda\n"
                "tensorParallelSize: 4\npipelineParallelSize: 2\nnodes: 2\n")
    assert_bad_input(run_cli(["--config", str(cfg)], CUDA_VISIBLE_DEVICES="0,1,2"),
                     "= 8 GPU(s) over 2 pods, 4 in this one", "3 are visible")
    ok = dry_run("--config", str(cfg), CUDA_VISIBLE_DEVICES="0,1,2,3")
    assert flag(ok["argv"], "--pipeline-parallel-size") == "2"


def test_cuda_requested_with_every_gpu_hidden(tmp_path):
    """CUDA_VISIBLE_DEVICES="" hides every GPU (and wins over /dev/nvidiaN), so this holds
    on a GPU machine too."""
    model = model_folder(tmp_path / "m")
    cfg = write(tmp_path / "engine.yaml", f"model: {model}\ndevice: cuda\n")
    env = {"CUDA_VISIBLE_DEVICES": ""}
    assert_bad_input(run_cli(["--config", str(cfg)], **env), "0 are visible")


def test_unknown_key_names_file_and_field(tmp_path):
    cfg = write(tmp_path / "engine.yaml", "model: /x\ntensorParalelSize: 2\n")
    assert_bad_input(run_cli(["--config", str(cfg)]), str(cfg), "`tensorParalelSize`",
                     "unknown key")


def test_wrong_types_and_ranges_name_every_field(tmp_path):
    cfg = write(tmp_path / "engine.json", json.dumps(
        {"model": "/x", "port": "http", "gpuMemoryUtilization": 1.5, "runner": "chat"}))
    assert_bad_input(run_cli(["--config", str(cfg)]), str(cfg), "`port`",
                     "`gpuMemoryUtilization`", "`runner`", "'generate' or 'pooling'")


def test_syntax_error_gives_the_line(tmp_path):
    cfg = write(tmp_path / "engine.yaml", "model: /x\nport: [1, 2\n")
    assert_bad_input(run_cli(["--config", str(cfg)]), str(cfg), "not valid YAML or JSON",
                     "line")


def test_unreadable_config_and_missing_model(tmp_path):
    assert_bad_input(run_cli(["--config", str(tmp_path / "absent.yaml")]), "absent.yaml",
                     "cannot read")
    assert_bad_input(run_cli([]), "no model given", "--model")


def test_unknown_scheme_is_rejected(tmp_path):
    assert_bad_input(run_cli(["--model", "ftp://host/model"]), "`model`", "unknown scheme")


def test_usage_error_exits_2():
    result = run_cli(["--port", "eighty"])
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_flags_override_the_file_and_engine_args_pass_through(tmp_path):
    model = model_folder(tmp_path / "m")
    cfg = write(tmp_path / "engine.yaml", "\n".join([
        f"model: {tmp_path / 'other'}", "servedModelName: from-file", "port: 9000",
        "maxModelLen: 2048", "quantization: fp8", "kvCacheDtype: fp8",
        "shutdownGracePeriodSeconds: 45", "extraArgs: [--enable-prefix-caching]", ""]))
    out = dry_run("--config", str(cfg), "--model", str(model), "--served-model-name", "chat",
                  "--port", "8123", "--host", "127.0.0.1", "--", "--max-num-seqs", "4")
    argv = out["argv"]
    assert argv[1:3] == ["-m", "vllm.entrypoints.openai.api_server"]
    assert flag(argv, "--model") == str(model)
    assert flag(argv, "--served-model-name") == "chat" == out["servedModelName"]
    assert (flag(argv, "--port"), flag(argv, "--host")) == ("8123", "127.0.0.1")
    assert flag(argv, "--max-model-len") == "2048"
    assert flag(argv, "--quantization") == "fp8"
    assert flag(argv, "--kv-cache-dtype") == "fp8"
    assert flag(argv, "--shutdown-timeout") == "45"
    assert argv[-3:] == ["--enable-prefix-caching", "--max-num-seqs", "4"]


def test_defaults_leave_optional_engine_flags_out(tmp_path):
    model = model_folder(tmp_path / "my-model")
    out = dry_run("--model", str(model))
    argv = out["argv"]
    assert "--quantization" not in argv and "--max-model-len" not in argv
    assert out["servedModelName"] == "my-model"
    assert flag(argv, "--runner") == "generate" and flag(argv, "--port") == "8000"


def test_settings_from_the_environment(tmp_path):
    model = model_folder(tmp_path / "m")
    cfg = write(tmp_path / "engine.yaml", f"model: {model}\nservedModelName: env-file\n")
    assert dry_run(STACKGEN_RUNTIME_CONFIG=str(cfg))["servedModelName"] == "env-file"
    inline = json.dumps({"model": str(model), "servedModelName": "inline"})
    assert dry_run(STACKGEN_ENGINE_SETTINGS=inline)["servedModelName"] == "inline"


def test_cpu_kv_cache_space_becomes_the_vllm_variable(tmp_path):
    model = model_folder(tmp_path / "m")
    cfg = write(tmp_path / "e.yaml", f"model: {model}\ndevice: cpu\ncpuKvCacheSpaceGiB: 3\n")
    env = dry_run("--config", str(cfg))["env"]
    assert env["VLLM_CPU_KVCACHE_SPACE"] == "3" and set(env) == {"VLLM_CPU_KVCACHE_SPACE", "VLLM_CACHE_ROOT"}


def test_pvc_source_maps_to_the_mount_root(tmp_path):
    model = model_folder(tmp_path / "mnt" / "models-pvc" / "llama" / "8b")
    cfg = write(tmp_path / "e.yaml", f"model: pvc://models-pvc/llama/8b\n"
                f"pvcMountRoot: {tmp_path / 'mnt'}\n")
    out = dry_run("--config", str(cfg))
    assert flag(out["argv"], "--model") == str(model)
    assert out["servedModelName"] == "8b"
    missing = write(tmp_path / "m.yaml", f"model: pvc://other/x\npvcMountRoot: {tmp_path}\n")
    assert_bad_input(run_cli(["--config", str(missing)]), str(tmp_path / "other" / "x"),
                     "must be mounted at")


def hf_cache(root: Path, repo: str, commit: str = "0" * 40) -> Path:
    """Lays out a Hugging Face hub cache holding one snapshot, as a pre-loaded volume would."""
    folder = root / "hub" / ("models--" + repo.replace("/", "--"))
    snapshot = model_folder(folder / "snapshots" / commit)
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(commit)
    return snapshot


@pytest.mark.usefixtures("runtime_venv")  # huggingface_hub lives in .venv-runtime
def test_hf_source_offline_uses_the_cache(tmp_path):
    snapshot = hf_cache(tmp_path / "cache", "acme/tiny")
    cfg = write(tmp_path / "e.yaml", f"model: hf://acme/tiny\nmodelCacheDir: {tmp_path / 'cache'}\n")
    out = dry_run("--config", str(cfg), HF_HUB_OFFLINE="1")
    assert flag(out["argv"], "--model") == str(snapshot)
    assert out["servedModelName"] == "acme/tiny"


@pytest.mark.usefixtures("runtime_venv")
def test_hf_source_offline_and_not_cached_fails_clearly(tmp_path):
    cfg = write(tmp_path / "e.yaml", f"model: hf://acme/absent\nmodelCacheDir: {tmp_path}\n")
    assert_bad_input(run_cli(["--config", str(cfg)], HF_HUB_OFFLINE="1"), "hf://acme/absent",
                     "HF_HUB_OFFLINE is set")


def _hide(module: str, root: Path) -> Path:
    """A folder that, first on PYTHONPATH, makes `import module` fail as if not installed."""
    package = root.joinpath(*module.split("."))
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(f"raise ImportError({f'No module named {module!r}'!r})\n")
    return root


@pytest.mark.parametrize(("uri", "module", "package"), [
    ("s3://bucket/models/llama", "boto3", "boto3"),
    ("gs://bucket/models/llama", "google.cloud.storage", "google-cloud-storage"),
])
def test_object_store_without_its_library_says_what_to_install(tmp_path, uri, module, package):
    """Runs whether or not the library is installed: the test hides it."""
    hidden = _hide(module, tmp_path / "hide")
    result = run_cli(["--model", uri], PYTHONPATH=str(hidden))
    assert_bad_input(result, uri, f"pip install {package}")
    assert '"event": "model.library-missing"' in result.stderr


def test_engine_failure_is_exit_1_with_its_log(tmp_path):
    model = model_folder(tmp_path / "m")
    result = run_cli(["--model", str(model)], STACKGEN_VLLM_MODULE="stackgen_no_such_engine")
    assert result.returncode == 1, result.stderr
    assert '"event": "engine.exited"' in result.stderr and '"exitCode": 1' in result.stderr


def test_runtime_package_never_imports_the_cli():
    python = str(RUNTIME_PY) if runtime_available() else cli_command()[0]
    code = ("import sys, stackgen.runtime.main; "
            "sys.exit(any(m.startswith('stackgen.cli') for m in sys.modules))")
    assert subprocess.run([python, "-c", code]).returncode == 0


def _llama_8b_folder(root: Path) -> Path:
    from stackgen.catalog import resolve_model

    root.mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text(json.dumps(dict(resolve_model("llama-3.1-8b").config)))
    return root


def test_max_model_len_default_fits_the_gpu(tmp_path):
    """Llama-3.1-8B's 131072-token context does not fit an L4's KV cache; without
    maxModelLen the runtime picks the longest power of two that does, from the sizing core,
    at the utilization vLLM will run with (its own 0.92 when the settings give none)."""
    model = _llama_8b_folder(tmp_path / "llama")
    cfg = write(tmp_path / "engine.yaml", f"model: {model}\ndevice: cuda\n")
    on_l4 = dry_run("--config", str(cfg), CUDA_VISIBLE_DEVICES="0", STACKGEN_GPU="l4-24gb")
    assert flag(on_l4["argv"], "--gpu-memory-utilization") == "0.92"
    assert flag(on_l4["argv"], "--max-model-len") == "32768"
    tighter = write(tmp_path / "tight.yaml", f"model: {model}\ndevice: cuda\ngpuMemoryUtilization: 0.9\n")
    on_l4_tight = dry_run("--config", str(tighter), CUDA_VISIBLE_DEVICES="0", STACKGEN_GPU="l4-24gb")
    assert flag(on_l4_tight["argv"], "--max-model-len") == "16384"
    on_h100 = dry_run("--config", str(cfg), CUDA_VISIBLE_DEVICES="0", STACKGEN_GPU="h100")
    assert "--max-model-len" not in on_h100["argv"]  # the full context fits: vLLM decides
    given = write(tmp_path / "given.yaml", f"model: {model}\ndevice: cuda\nmaxModelLen: 2048\n")
    kept = dry_run("--config", str(given), CUDA_VISIBLE_DEVICES="0", STACKGEN_GPU="l4-24gb")
    assert flag(kept["argv"], "--max-model-len") == "2048"


def test_kserve_rendered_runtime_and_settings_start_the_same_engine(tmp_path):
    """KServe's path: the stackgen-vllm ServingRuntime's args plus the InferenceService's
    inline settings (STACKGEN_ENGINE_SETTINGS) drive the same runtime as the Deployment."""
    import yaml

    golden = Path(__file__).resolve().parents[1] / "golden" / "platform"
    runtime = yaml.safe_load((golden / "kserve/servingruntime-stackgen-vllm.yaml").read_text())
    isvc = yaml.safe_load((golden / "models/assistant/inferenceservice.yaml").read_text())
    env = {e["name"]: e["value"] for e in isvc["spec"]["predictor"]["model"]["env"] if "value" in e}
    model = model_folder(tmp_path / "mnt-models")
    args = [a.replace("{{.Name}}", "assistant").replace("/mnt/models", str(model))
            for a in runtime["spec"]["containers"][0]["args"]]
    settings = json.loads(env["STACKGEN_ENGINE_SETTINGS"])
    tp = settings["tensorParallelSize"]
    # the predictor asks for the GPUs its settings use, and the runtime starts with them
    gpus = isvc["spec"]["predictor"]["model"]["resources"]["limits"]["nvidia.com/gpu"]
    assert int(gpus) == tp
    out = dry_run(*args, CUDA_VISIBLE_DEVICES=",".join(map(str, range(tp))), **env)
    argv = out["argv"]
    assert flag(argv, "--served-model-name") == "assistant" and flag(argv, "--port") == "8080"
    assert flag(argv, "--max-model-len") == str(settings["maxModelLen"])   # the plan's, not vLLM's default
    assert flag(argv, "--tensor-parallel-size") == str(tp)
    if tp > 1:   # fewer GPUs than the settings use: refused before vLLM starts
        assert run_cli(args, CUDA_VISIBLE_DEVICES="0", **env).returncode == 2


def test_compile_cache_goes_to_the_model_cache_unless_set(tmp_path):
    model = model_folder(tmp_path / "m")
    cfg = write(tmp_path / "engine.yaml", f"model: {model}\nmodelCacheDir: {tmp_path / 'vol'}\n")
    assert dry_run("--config", str(cfg))["env"]["VLLM_CACHE_ROOT"] == str(tmp_path / "vol" / "vllm")
    explicit = dry_run("--config", str(cfg), VLLM_CACHE_ROOT=str(tmp_path / "mine"))
    assert "VLLM_CACHE_ROOT" not in explicit["env"]  # the operator's own setting stands
