"""Which vLLM release's memory accounting to size with (`--vllm-version`, `spec.render.vllmVersion`).

vLLM changed how it measures the memory it leaves to the KV cache several times; each
change is a profiler of `stackgen.sizing.engine.PROFILERS` (docs/sizing.md, "Which vLLM"):

| releases | dense models | MoE models |
| --- | --- | --- |
| 0.2 - 0.9 (V0, and V1 up to 0.9) | legacy | legacy |
| 0.10, 0.12 - 0.20 | v1-0.10 | v1-0.10 |
| 0.11 (sort-path sampler in the profiling run) | v1-0.11 | v1-0.11 |
| 0.21 - 0.25.0 (V1 model runner) | v1-mrv1 | v1-mrv1 |
| 0.25.1 - 0.28 (Model Runner V2 for dense models) | v1-0.25 | v1-mrv1 |
| 0.29 - 0.32 (Model Runner V2 with its CUDA graph reservation) | v1 | v1 |
"""

from __future__ import annotations

import re

#: the release the reference runtime pins, and the newest whose accounting is modelled
PINNED = "0.32"
OLDEST = (0, 2)
NEWEST = (0, 32)

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[.+-]?(?:rc|post|dev|a|b)\d*[\w.+-]*)?$")


class UnsupportedVersion(ValueError):
    """A version string stackgen cannot read, or a release whose accounting it does not know."""


def parse(version: str) -> tuple[int, int, int]:
    m = _VERSION.match(str(version).strip())
    if not m:
        raise UnsupportedVersion(f"{version!r} is not a vLLM version: give X.Y or X.Y.Z, e.g. 0.11 or 0.25.1")
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def profiler_for(version: str, moe: bool = False) -> str:
    """The accounting of vLLM `version` for a dense or MoE model; UnsupportedVersion for
    releases outside 0.2 - 0.32."""
    major, minor, patch = parse(version)
    if (major, minor) < OLDEST or (major, minor) > NEWEST:
        raise UnsupportedVersion(f"vLLM {version} is outside the releases whose memory accounting stackgen "
                                 f"models (0.{OLDEST[1]} to {PINNED}): size with {PINNED}, or the nearest "
                                 "release you can run")
    if minor <= 9:
        return "legacy"
    if minor == 11:
        return "v1-0.11"
    if minor <= 20:
        return "v1-0.10"
    if (minor, patch) < (25, 1):
        return "v1-mrv1"
    if minor <= 28:
        return "v1-mrv1" if moe else "v1-0.25"
    return "v1"
