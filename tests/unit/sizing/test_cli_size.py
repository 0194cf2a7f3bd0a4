"""`stackgen size` through the real console entry point: output, exit codes, errors."""

from __future__ import annotations

import json

import pytest
import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stackgen.cli.main", "size", *args],
                          capture_output=True, text=True, timeout=60)


def test_json_output_is_one_document_with_the_contract_keys():
    proc = run("--model", "llama-3.1-8b", "--gpu", "H100", "--max-model-len", "8192", "--output", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["gpu"] == "h100-80gb" and data["fits"] is True and data["kvCacheTokens"] > 100_000


def test_not_fitting_exits_1_and_names_the_smallest_tp():
    proc = run("--model", "llama-3.1-70b", "--gpu", "h100-80gb", "--max-model-len", "8192")
    assert proc.returncode == 1
    assert "fits on h100-80gb with --tp " in proc.stdout and '"fits": false' not in proc.stdout


def test_bad_input_exits_2_without_traceback():
    for args in (["--model", "llama-3.1-8b", "--gpu", "b300"],
                 ["--model", "llama-3.1-70b", "--gpu", "h100", "--tp", "3"],
                 ["--model", "llama-3.1-8b", "--gpu", "h100", "--gpu-memory-utilization", "1.5"],
                 ["--model", "no-such-model", "--gpu", "h100"]):
        proc = run(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.startswith("error:") and "Traceback" not in proc.stderr


def test_text_output_uses_vllm_032_default_utilization_and_says_it_is_a_warm_start():
    """Without the flag, vLLM 0.32 budgets 0.92 of the GPU; an explicit value wins and a
    lower one leaves fewer KV tokens."""
    default = run("--model", "llama-3.1-8b", "--gpu", "l4", "--max-model-len", "8192")
    lower = run("--model", "llama-3.1-8b", "--gpu", "l4", "--max-model-len", "8192",
                "--gpu-memory-utilization", "0.9")
    assert default.returncode == 0 == lower.returncode, default.stderr
    assert "gpu memory utilization      0.92" in default.stdout
    assert "gpu memory utilization      0.9\n" in lower.stdout
    tokens = [int(line.split()[-1].replace(",", "")) for out in (default.stdout, lower.stdout)
              for line in out.splitlines() if line.startswith("KV cache tokens")]
    assert tokens[0] > tokens[1]
    assert "warm start" in default.stdout and "compile cache" in default.stdout
    assert "vLLM release                0.32 (Model Runner V2; accounting v1)" in default.stdout


def test_text_output_names_the_release_and_its_defaults():
    """An older release says so, starts at its own utilization, and has no cold-compile note
    (torch.compile's scratch is charged to the KV budget only in 0.27-0.32)."""
    old = run("--model", "llama-3.1-8b", "--gpu", "l4", "--max-model-len", "8192", "--vllm-version", "0.19.1")
    assert old.returncode == 0, old.stderr
    assert "vLLM release                0.19.1 (V1 model runner; accounting v1-0.10)" in old.stdout
    assert "gpu memory utilization      0.9\n" in old.stdout
    assert "compile cache" not in old.stdout


def test_the_default_utilization_is_the_release_users_run():
    """Without --gpu-memory-utilization `size` starts as the release does: 0.92 since vLLM
    0.20 (the pinned release, the engine-settings contract's default), 0.9 before; the
    KV cache follows."""
    from stackgen.sizing.engine import VLLM_GPU_MEMORY_UTILIZATION
    from stackgen.sizing.releases import PINNED_RELEASE

    assert PINNED_RELEASE.gpu_memory_utilization == VLLM_GPU_MEMORY_UTILIZATION == 0.92

    def tokens(*extra: str) -> int:
        proc = run("--model", "llama-3.1-8b", "--gpu", "a10g", "--max-model-len", "8192", *extra, "-o", "json")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)["kvCacheTokens"]

    old = tokens("--vllm-version", "0.19.1")
    assert old == tokens("--vllm-version", "0.19.1", "--gpu-memory-utilization", "0.9")
    assert old < tokens("--vllm-version", "0.19.1", "--gpu-memory-utilization", "0.92")
    assert tokens() == tokens("--gpu-memory-utilization", "0.92")


def test_performance_flags_add_a_performance_object_with_the_contract_keys():
    proc = run("--model", "llama-3.1-8b", "--gpu", "h100", "--max-model-len", "8192", "--input-tokens", "1024",
               "--output-tokens", "256", "--concurrency", "32", "-o", "json")
    assert proc.returncode == 0, proc.stderr
    perf = json.loads(proc.stdout)["performance"]
    assert set(perf) >= {"concurrency", "ttftMs", "tpotMs", "e2eLatencyMs", "p95LatencyMs", "outputTokensPerS",
                         "requestsPerS", "saturated", "bound", "errorBand"}
    assert perf["concurrency"] == 32 and perf["saturated"] is False
    assert perf["tpotMs"] > perf["hbmFloorTpotMs"] > 4
    assert perf["e2eLatencyMs"] == pytest.approx(perf["ttftMs"] + 255 * perf["tpotMs"], rel=0.01)
    low, high = perf["errorBand"]["tpotMs"]
    assert low < perf["tpotMs"] < high


def test_the_effective_concurrency_is_the_one_after_the_kv_cache_cap():
    proc = run("--model", "llama-3.1-70b", "--gpu", "h100", "--tp", "2", "--max-model-len", "8192",
               "--input-tokens", "2048", "--output-tokens", "2048", "--concurrency", "1000", "-o", "json")
    perf = json.loads(proc.stdout)["performance"]
    assert perf["saturated"] is True and perf["bound"] == "kv-cache" and perf["concurrency"] < 100


def test_a_request_rate_gives_the_rate_back_below_saturation_and_text_names_the_bound():
    proc = run("--model", "llama-3.1-8b", "--gpu", "l4", "--max-model-len", "4096", "--input-tokens", "512",
               "--output-tokens", "128", "--request-rate", "0.5")
    assert proc.returncode == 0, proc.stderr
    assert "0.5 requests/s" in proc.stdout and "bound by" in proc.stdout and "HBM floor" in proc.stdout


@pytest.mark.parametrize("args,flag", [
    (["--input-tokens", "512"], "--output-tokens"),
    (["--input-tokens", "512", "--output-tokens", "64"], "--concurrency"),
    (["--input-tokens", "512", "--output-tokens", "64", "--concurrency", "4", "--request-rate", "2"], "--request-rate"),
    (["--input-tokens", "0", "--output-tokens", "64", "--concurrency", "4"], "--input-tokens"),
    (["--input-tokens", "512", "--output-tokens", "64", "--concurrency", "-1"], "--concurrency"),
    (["--input-tokens", "512", "--output-tokens", "64", "--request-rate", "nan"], "--request-rate"),
])
def test_incomplete_or_contradictory_performance_flags_exit_2_naming_the_flag(args, flag):
    proc = run("--model", "llama-3.1-8b", "--gpu", "h100", *args, "-o", "json")
    assert proc.returncode == 2, proc.stdout
    assert flag in proc.stderr and "Traceback" not in proc.stderr


def test_a_user_gpu_profile_file_sizes_like_a_catalog_one_and_bad_ones_name_file_line_and_key(tmp_path):
    catalog = tmp_path / "l40s.yaml"
    from stackgen.resources import profiles_dir

    text = (profiles_dir() / "gpus" / "l40s-48gb.yaml").read_text().replace("id: l40s-48gb", "id: my-l40s")
    catalog.write_text(text)
    mine = json.loads(run("--model", "llama-3.1-8b", "--gpu", str(catalog), "--max-model-len", "8192",
                          "-o", "json").stdout)
    ours = json.loads(run("--model", "llama-3.1-8b", "--gpu", "l40s", "--max-model-len", "8192", "-o", "json").stdout)
    assert mine["gpu"] == "my-l40s" and mine["kvCacheTokens"] == ours["kvCacheTokens"]
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("bandwidth_gbs: 864", "bandwidth_gbs: -1"))
    proc = run("--model", "llama-3.1-8b", "--gpu", str(broken))
    line = next(i for i, l in enumerate(broken.read_text().splitlines(), 1) if l.startswith("bandwidth_gbs"))
    assert proc.returncode == 2 and f"{broken}:{line}: bandwidth_gbs:" in proc.stderr and "Traceback" not in proc.stderr
    for content in ("id: [\n", "- a list\n", "name: no numbers\n"):
        broken.write_text(content)
        proc = run("--model", "llama-3.1-8b", "--gpu", str(broken))
        assert proc.returncode == 2 and str(broken) in proc.stderr and "Traceback" not in proc.stderr, content


def test_vllm_version_outside_the_modelled_releases_is_exit_2():
    proc = run("--model", "llama-3.1-8b", "--gpu", "h100", "--vllm-version", "0.40")
    assert proc.returncode == 2 and "--vllm-version" in proc.stderr and "0.32" in proc.stderr


def test_enforce_eager_leaves_the_cuda_graph_estimate_to_the_kv_cache_where_a_release_subtracts_it():
    """vLLM 0.20+ subtracts its CUDA graph estimate before the KV cache; --enforce-eager
    captures no graphs, so the KV cache keeps that memory. 0.19 never subtracted it."""
    def kv(*extra: str) -> float:
        proc = run("--model", "qwen3-8b", "--gpu", "a10g", "--max-model-len", "8192", *extra, "-o", "json")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)["kvCacheGiBPerGpu"]

    assert kv("--enforce-eager") - kv() > 0.4
    assert kv("--enforce-eager", "--vllm-version", "0.19.1") == kv("--vllm-version", "0.19.1")
    text = run("--model", "qwen3-8b", "--gpu", "a10g", "--max-model-len", "8192", "--enforce-eager")
    assert "compile cache" not in text.stdout


@pytest.mark.parametrize("config,field", [
    # Qwen3.5 (multimodal wrapper, Gated DeltaNet layers between full-attention ones)
    ({"architectures": ["Qwen3_5ForConditionalGeneration"], "text_config": {
        "hidden_size": 2560, "num_hidden_layers": 4, "num_attention_heads": 16, "num_key_value_heads": 4,
        "vocab_size": 248320, "layer_types": ["linear_attention"] * 3 + ["full_attention"]}}, "layer_types"),
    # Qwen3-Next, Jamba, Nemotron-H
    ({"architectures": ["Qwen3NextForCausalLM"], "hidden_size": 2048, "num_hidden_layers": 48,
      "num_attention_heads": 16, "vocab_size": 151936, "full_attention_interval": 4}, "full_attention_interval"),
    ({"architectures": ["JambaForCausalLM"], "hidden_size": 4096, "num_hidden_layers": 32,
      "num_attention_heads": 32, "vocab_size": 65536, "attn_layer_period": 8, "mamba_d_state": 16}, "attn_layer_period"),
    ({"architectures": ["NemotronHForCausalLM"], "hidden_size": 4096, "num_hidden_layers": 52,
      "num_attention_heads": 32, "vocab_size": 131072, "hybrid_override_pattern": "M-M-M*-"}, "hybrid_override_pattern"),
])
def test_hybrid_linear_attention_and_state_space_models_are_refused_not_mis_sized(tmp_path, config, field):
    """Their recurrent state shares vLLM's KV cache pool in pages of its own size: sizing
    them as full attention would be wrong, so `size` says it cannot (exit 2, file and field)."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    proc = run("--model", str(path), "--gpu", "a10g", "-o", "json")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    error = json.loads(proc.stdout)["error"]
    assert error["field"] == field and error["file"] == str(path) and "hybrid" in error["message"]
