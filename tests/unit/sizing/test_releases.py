"""`--vllm-version` picks the memory accounting of that release: it reproduces the accounting
every published start-up log in tests/sizing_cases/vllm_logs.yaml was scored with."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stackgen.catalog import resolve_gpu, resolve_model
from stackgen.sizing.releases import UnsupportedVersion, parse, release_for
from stackgen.yamlio import read_data

CASES = Path(__file__).resolve().parents[2] / "sizing_cases" / "vllm_logs.yaml"


def test_each_logged_release_maps_to_the_accounting_its_log_was_scored_with():
    from stackgen.sizing.accuracy import _gpu, release_of

    checked = 0
    for case in read_data(CASES)["cases"]:
        facts = resolve_model(case["model"])
        release = release_of(case, facts, _gpu(case))
        if release is None:
            continue
        assert release.profiler == case["profiler"], (case["id"], release)
        checked += 1
    assert checked >= 25


@pytest.mark.parametrize("version,model,gpu,profiler,runner", [
    ("0.32.0", "qwen3-30b-a3b", "h100", "v1", "v2"), ("0.29", "qwen2.5-7b", "h100", "v1", "v2"),
    ("0.28", "qwen3-30b-a3b", "h100", "v1-mrv1", "v1"), ("0.28", "qwen2.5-7b", "h100", "v1-0.25", "v2"),
    ("0.25.0", "qwen2.5-7b", "h100", "v1-0.25", "v2"), ("0.24", "qwen2.5-7b", "h100", "v1-mrv1", "v1"),
    ("0.23", "llama-3.1-8b", "h100", "v1-0.25", "v2"), ("0.22.1", "llama-3.1-8b", "h100", "v1-mrv1", "v1"),
    ("0.22", "qwen3-8b", "h100", "v1-0.25", "v2"), ("0.22", "qwen3-8b-fp8", "h100", "v1-mrv1", "v1"),
    ("0.24", "qwen3-8b-fp8", "h100", "v1-0.25", "v2"),
    ("0.20.0", "qwen3-8b", "h100", "v1-mrv1", "v1"), ("0.19.1", "qwen3-8b", "h100", "v1-0.10", "v1"),
    ("0.17", "qwen3-8b", "h100", "v1-0.10", "v1"), ("0.16", "qwen3-8b", "h100", "v1-0.11", "v1"),
    ("0.12.0", "qwen3-8b", "h100", "v1-0.11", "v1"), ("v0.11.0rc1", "qwen3-8b", "h100", "v1-0.11", "v1"),
    ("0.10.1.1", "qwen3-8b", "h100", "v1-0.10", "v1"), ("0.9.2", "qwen3-8b", "h100", "legacy", "v1"),
    ("0.6.5", "qwen3-8b", "h100", "legacy", "v0"), ("0.27.1.post1", "qwen3-8b", "h100", "v1-0.25", "v2"),
    # ROCm: the CUDA graph estimate is skipped before 0.26 (vllm/v1/worker/gpu_worker.py), and
    # FlashInfer's sampler is CUDA-only (0.10 on ROCm takes the sort path)
    ("0.25.0", "qwen3-30b-a3b", "mi300x", "v1-0.10", "v1"), ("0.26", "qwen3-30b-a3b", "mi300x", "v1-mrv1", "v1"),
    ("0.10.2", "qwen3-8b", "mi300x", "v1-0.11", "v1"),
    # pooling models stay on the V1 runner until Model Runner V2 runs every model
    ("0.25.0", "bge-large-en-v1.5", "h100", "v1-0.25", "v1"),
])
def test_release_boundaries(version, model, gpu, profiler, runner):
    release = release_for(version, resolve_model(model), resolve_gpu(gpu))
    assert release.model_runner == runner
    if resolve_model(model).is_llm:
        assert release.profiler == profiler


@pytest.mark.parametrize("version,utilization", [("0.19.1", 0.9), ("0.20", 0.92), ("0.11", 0.9), ("0.32", 0.92)])
def test_each_release_starts_with_its_own_default_utilization(version, utilization):
    assert release_for(version).gpu_memory_utilization == utilization


def test_batching_and_capture_defaults_follow_the_release():
    """vLLM 0.28 added the 16384 / 1024 tier from 160 GiB and capture sizes up to 1024 on
    Blackwell: a B200 sized for 0.27 profiles 8192 tokens and fewer graphs, so its CUDA graph
    estimate and activation peak are smaller and the KV cache larger."""
    from stackgen.sizing.engine import batching_defaults, cudagraph_capture_sizes

    b200, h100 = resolve_gpu("b200"), resolve_gpu("h100")
    old, new = release_for("0.27.1"), release_for("0.28")
    assert batching_defaults(b200, None, old) == (8192, 1024)
    assert batching_defaults(b200, None, new) == batching_defaults(b200) == (16384, 1024)
    assert batching_defaults(h100, None, new) == (8192, 1024)
    assert cudagraph_capture_sizes(b200, None, old) == (51, 51)
    assert cudagraph_capture_sizes(b200, None, new) == (83, 83)
    assert cudagraph_capture_sizes(h100, None, new) == (51, 51)


@pytest.mark.parametrize("version,number", [("0.20.1rc1.dev16+g7a1eb8ac2", (0, 20, 1)),
                                            ("0.13.0+faa43dbf.nv26.01", (0, 13, 0)), ("0.10.1.1", (0, 10, 1)),
                                            ("v0.15.1", (0, 15, 1)), ("0.27.1.post1", (0, 27, 1))])
def test_nightly_vendor_and_patch_builds_read_as_their_release(version, number):
    """What `vllm --version` prints on nightly, vendor (NVIDIA's containers) and patch builds."""
    assert parse(version) == number
    assert release_for(version).version == ".".join(map(str, number if number[2] else number[:2]))


@pytest.mark.parametrize("version", ["0.33", "1.0", "0.1.4", "latest", "0.x", "", "0.11;rm -rf"])
def test_unknown_or_unmodelled_releases_are_refused_with_the_range(version):
    with pytest.raises(UnsupportedVersion) as err:
        release_for(version)
    assert "0.32" in str(err.value) or "X.Y" in str(err.value)
    if version not in ("latest", "0.x", "", "0.11;rm -rf"):
        assert parse(version)


def test_size_and_plan_follow_the_release_the_user_runs(tmp_path):
    import json
    import subprocess
    import sys

    def size_json(*extra):
        proc = subprocess.run([sys.executable, "-m", "stackgen.cli.main", "size", "--model", "qwen3-8b", "--gpu",
                               "a100-40gb", "--max-model-len", "8192", "--gpu-memory-utilization", "0.9", *extra,
                               "-o", "json"], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    old, pinned = size_json("--vllm-version", "0.19.1"), size_json()
    assert (old["accounting"], pinned["accounting"]) == ("v1-0.10", "v1")
    assert old["kvCacheTokens"] != pinned["kvCacheTokens"]
    stack = tmp_path / "stackgen.yaml"
    stack.write_text("""apiVersion: stackgen.dev/v1alpha1
kind: Stack
metadata: {name: v}
spec:
  cluster: {nodePools: [{name: a, gpu: a100-40gb, nodes: 1, gpusPerNode: 1}]}
  models:
    - {name: chat, source: hf://Qwen/Qwen3-8B, kind: llm, maxModelLen: 8192}
  render: {vllmVersion: "0.19.1"}
""")
    proc = subprocess.run([sys.executable, "-m", "stackgen.cli.main", "plan", "-f", str(stack), "-o", "json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["models"][0]["sizing"]["kvCacheTokens"] == old["kvCacheTokens"]
    stack.write_text(stack.read_text().replace("0.19.1", "0.40"))
    bad = subprocess.run([sys.executable, "-m", "stackgen.cli.main", "plan", "-f", str(stack)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "spec.render.vllmVersion" in bad.stderr and "Traceback" not in bad.stderr


def test_one_release_is_sized_on_each_gpu_s_platform():
    """The fit hint tries every catalog GPU with the user's release: an MoE under 0.25 is
    sized with CUDA's graph rule on NVIDIA GPUs and ROCm's on an MI300X."""
    release = release_for("0.25.0", resolve_model("qwen3-30b-a3b"), resolve_gpu("h100"))
    assert release.profiler == "v1-mrv1"
    assert release.for_gpu(resolve_gpu("mi300x")).profiler == "v1-0.10"
    assert release.for_gpu(resolve_gpu("mi300x")).for_gpu(resolve_gpu("a100")).profiler == "v1-mrv1"


def test_a_quantization_flag_is_not_a_quantized_checkpoint_for_the_runner_choice():
    """vLLM 0.22-0.23 kept quantized checkpoints (`quantization_config`) on the V1 runner;
    `--quantization fp8` on a 16-bit checkpoint still ran Model Runner V2."""
    import json
    import subprocess
    import sys

    def runner(model: str, *extra: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "stackgen.cli.main", "size", "--model", model, "--gpu", "h100",
                               "--max-model-len", "8192", "--vllm-version", "0.22", *extra, "-o", "json"],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)["modelRunner"]

    assert runner("qwen3-8b", "--quantization", "fp8") == "v2"
    assert runner("qwen3-8b-fp8") == "v1"


def test_the_batching_check_uses_the_release_s_defaults():
    """vLLM refuses max-num-seqs above max-num-batched-tokens: a B200 under 0.27 defaults to
    8192 tokens (exit 2 at 10,000 sequences); 0.28's 16,384 allow them."""
    import subprocess
    import sys

    def size(version: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "stackgen.cli.main", "size", "--model", "qwen3-8b", "--gpu",
                               "b200", "--max-model-len", "8192", "--max-num-seqs", "10000", "--vllm-version",
                               version], capture_output=True, text=True, timeout=60)

    old, new = size("0.27"), size("0.28")
    assert old.returncode == 2 and "max-num-batched-tokens (8192)" in old.stderr and "Traceback" not in old.stderr
    assert new.returncode == 0, new.stderr


def test_the_logged_token_count_follows_the_release_and_sliding_windows_reserve_in_flight_tokens():
    """vLLM 0.21 logs max_concurrency x max_model_len instead of blocks x 16 / groups: the
    same for full attention, about twice as much for gpt-oss (half its layers slide over 128
    tokens); and from 0.28 a sliding window reserves two batches in flight, not one."""
    from stackgen.sizing import size
    from stackgen.sizing.engine import EngineSettings

    gpu = resolve_gpu("h100")

    def sized(model: str, version: str, max_len: int):
        facts = resolve_model(model)
        return size(facts, gpu, EngineSettings(max_model_len=max_len, gpu_memory_utilization=0.9),
                    release_for(version, facts, gpu))

    dense_old, dense_new = sized("llama-3.1-8b", "0.20.2", 8192), sized("llama-3.1-8b", "0.21", 8192)
    assert dense_old.kv_cache_bytes_per_gpu == dense_new.kv_cache_bytes_per_gpu
    assert dense_old.kv_cache_tokens == dense_new.kv_cache_tokens
    old, new = sized("gpt-oss-20b", "0.20.2", 131072), sized("gpt-oss-20b", "0.21", 131072)
    assert old.kv_cache_bytes_per_gpu == new.kv_cache_bytes_per_gpu
    assert old.kv_cache_tokens % 16 == 0 and 1.8 < new.kv_cache_tokens / old.kv_cache_tokens < 2.0
    assert new.kv_cache_tokens == int(new.max_concurrency * 131072)
    v27, v28 = sized("gpt-oss-20b", "0.27.1", 131072), sized("gpt-oss-20b", "0.28", 131072)
    assert v28.max_concurrency < v27.max_concurrency * (v28.kv_cache_bytes_per_gpu / v27.kv_cache_bytes_per_gpu)
