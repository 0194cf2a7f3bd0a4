"""Compare `size` with published vLLM start-up logs (tests/sizing_cases/*.yaml).

Used by the accuracy test and benchmarks/sizing_accuracy.py; reads only the case file
it is given."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, replace
from pathlib import Path

from stackgen.catalog import GpuProfile, resolve_gpu, resolve_model
from stackgen.yamlio import read_data as read_yaml
from stackgen.sizing.core import size
from stackgen.sizing.engine import BLOCK_SIZE, GiB, EngineSettings
from stackgen.sizing.memory import MODEL_RUNNER_V2
from stackgen.sizing.releases import PINNED_RELEASE, Release, release_for


@dataclass(frozen=True)
class CaseResult:
    id: str
    source: str
    model: str
    gpu: str
    tp: int
    published_tokens: int
    predicted_tokens: int
    published_kv_gib: float | None
    predicted_kv_gib: float
    #: "fit": the calibrated constants were fitted on this case; "holdout": never used
    split: str = "fit"
    #: why the case cannot be reconciled (kept, printed, outside the targets); "" if it counts
    excluded: str = ""
    #: the vLLM accounting the log came from (`size(..., profiler)`)
    profiler: str = "v1"

    @property
    def error(self) -> float:
        """Signed relative error of the token count (predicted / published - 1)."""
        return self.predicted_tokens / self.published_tokens - 1

    @property
    def kv_gib_error(self) -> float:
        """Predicted minus published KV cache per GPU, GiB (from the tokens when the log gives
        only those)."""
        published = self.published_kv_gib
        if published is None:
            published = self.predicted_kv_gib * self.published_tokens / max(self.predicted_tokens, 1)
        return self.predicted_kv_gib - published

    def within(self, share: float = 0.05, gib: float = 0.5) -> bool:
        """The issue's bar: within `share` of the published tokens, or within `gib` of the
        published KV cache per GPU (a tight fit's few GiB make small absolute misses large)."""
        return abs(self.error) <= share or abs(self.kv_gib_error) <= gib


def _gpu(case: dict) -> GpuProfile:
    """The catalog GPU, or a stand-in with the total the log printed (e.g. a desktop GPU)."""
    try:
        gpu = resolve_gpu(case["gpu"])
    except LookupError:
        gpu = replace(resolve_gpu("a10g-24gb"), id=case["gpu"], name=case["gpu"], aliases=())
    if case.get("gpu_total_gib"):
        total = int(case["gpu_total_gib"] * GiB)
        gpu = replace(gpu, memory_bytes=total, memory_gib=case["gpu_total_gib"])
    return gpu


def _published_tokens(case: dict, per_token: int) -> int:
    if case.get("published_tokens"):
        return int(case["published_tokens"])
    blocks = int(case["published_kv_gib"] * GiB) // (per_token * BLOCK_SIZE)
    return blocks * BLOCK_SIZE


def release_of(case: dict, facts=None, gpu=None) -> Release | None:
    """The release the case's `vllm:` line names (its first X.Y[.Z]), None when it names none."""
    m = re.search(r"\d+\.\d+(?:\.\d+)?", str(case.get("vllm") or ""))
    return release_for(m.group(0), facts, gpu) if m else None


def evaluate(case: dict) -> CaseResult:
    """Size the case as `stackgen size --vllm-version <its release>` would, with the flags
    its command passed: the release's accounting and defaults (utilization, batching)."""
    facts = resolve_model(case["model"])
    if facts is None:
        raise LookupError(f"case {case['id']}: model {case['model']} is not in the catalog")
    gpu = _gpu(case)
    release = release_of(case, facts, gpu)
    util = case.get("gpu_memory_utilization") or (release or PINNED_RELEASE).gpu_memory_utilization
    settings = EngineSettings(
        tensor_parallel_size=case.get("tp", 1), pipeline_parallel_size=case.get("pp", 1),
        gpu_memory_utilization=util, max_model_len=case["max_model_len"],
        dtype=case.get("dtype", "auto"), quantization=case.get("quantization", "none"),
        kv_cache_dtype=case.get("kv_cache_dtype", "auto"),
        max_num_batched_tokens=case.get("max_num_batched_tokens"), max_num_seqs=case.get("max_num_seqs"),
        extra_args=["--enforce-eager"] if case.get("enforce_eager") else [])
    profiler = release.profiler if release else case.get("profiler", "v1")
    result = size(facts, gpu, settings, release or profiler)
    return CaseResult(id=case["id"], source=case["source"], model=facts.name, gpu=case["gpu"],
                      tp=settings.tensor_parallel_size,
                      published_tokens=_published_tokens(case, result.kv_bytes_per_token),
                      predicted_tokens=result.kv_cache_tokens or 0,
                      published_kv_gib=case.get("published_kv_gib"),
                      predicted_kv_gib=result.kv_cache_bytes_per_gpu / GiB,
                      split=case.get("split", "fit"), excluded=" ".join(str(case.get("excluded", "")).split()),
                      profiler=profiler)


def evaluate_file(path: Path) -> list[CaseResult]:
    return [evaluate(case) for case in read_yaml(path)["cases"]]


def counted(results: list[CaseResult], split: str | None = None,
            profilers: tuple[str, ...] | None = None) -> list[CaseResult]:
    """The cases the targets apply to (not excluded), optionally one split and/or some
    profilers only."""
    return [r for r in results if not r.excluded and (split is None or r.split == split)
            and (profilers is None or r.profiler in profilers)]


#: the V1 engine's accounting since 0.10 ("v1" is the default path: vLLM 0.32)
V1_PROFILERS = ("v1", "v1-0.25", "v1-mrv1", "v1-0.11", "v1-0.10")
#: Model Runner V2 (vLLM 0.22+ for some architectures, 0.25 every dense model, 0.29 all): the accounting of the pinned vLLM 0.32, with or without
#: its CUDA graph reservation
MRV2_PROFILERS = MODEL_RUNNER_V2


def median_abs_error(results: list[CaseResult]) -> float:
    return statistics.median(abs(r.error) for r in results) if results else 0.0


def _summary(label: str, results: list[CaseResult]) -> str:
    if not results:
        return f"{label:<22} no cases"
    worst = max(abs(r.error) for r in results)
    return (f"{label:<22} median |error| {median_abs_error(results):.2%}, max {worst:.2%} "
            f"over {len(results)} case(s)")


def table(results: list[CaseResult]) -> str:
    """One line per case, then the error of the fitted, held-out and all counted cases
    separately; excluded cases are listed with their reason."""
    head = (f"{'case':<36} {'profiler':<8} {'split':<7} {'gpu':<17} {'tp':>2} {'published':>10} "
            f"{'predicted':>10} {'error':>8} {'KV GiB':>7}")
    lines = [head, "-" * len(head)]
    for r in results:
        mark = " (excluded)" if r.excluded else ""
        lines.append(f"{r.id:<36} {r.profiler:<8} {r.split:<7} {r.gpu:<17} {r.tp:>2} {r.published_tokens:>10,} "
                     f"{r.predicted_tokens:>10,} {r.error:>+8.2%} {r.kv_gib_error:>+7.2f}{mark}")
    for label, group in (("legacy", ("legacy",)), ("model runner v2", MRV2_PROFILERS), ("v1 all", V1_PROFILERS)):
        lines += [_summary(f"{label} fitted:", counted(results, "fit", group)),
                  _summary(f"{label} held-out:", counted(results, "holdout", group)),
                  _summary(f"{label} all:", counted(results, None, group))]
    lines += [_summary(f"accounting {name}:", counted(results, None, (name,)))
              for name in dict.fromkeys(r.profiler for r in results)]
    lines += [_summary("fitted:", counted(results, "fit")),
              _summary("held-out:", counted(results, "holdout")),
              _summary("all:", counted(results))]
    lines += [f"excluded {r.id}: {r.excluded}" for r in results if r.excluded]
    return "\n".join(lines)
