"""The extension targets of the catalogs: a new GPU is one profile file, a new provider one
profile file (plus its docs); nothing else in stackgen has to change for either."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

import stackgen.resources as resources
from stackgen.cli.main import run

REPO = Path(__file__).resolve().parents[3]

NEW_GPU = """\
id: x100-96gb
name: Example X100 96GB (a GPU stackgen has never heard of)
memory_bytes: 102005473280
bandwidth_gbs: 4000
bf16_tflops: 1200
fp8_tflops: 2400
compute_capability: '9.0'
gpu_class: hopper
product_label: EXAMPLE-X100-96GB
aliases: [x100]
"""

NEW_PROVIDER = """\
id: acme
poolLabel: cloud.acme.example/node-pool
selectGpuBy: product
gpuPresenceLabels: [nvidia.com/gpu.present]
gpuNodeLabels: {}
defaultGpuTaints:
  - {key: acme.example/gpu, value: "true", effect: NoSchedule}
"""

STACK = """\
apiVersion: stackgen.dev/v1alpha1
kind: Stack
metadata: {name: ext, namespace: ml}
spec:
  cluster:
    provider: acme
    nodePools:
      - {name: x100-pool, gpu: x100, nodes: 1, gpusPerNode: 8}
  models:
    - {name: chat, source: hf://meta-llama/Llama-3.1-70B-Instruct, kind: llm}
"""


def _clear_caches() -> None:
    for name, module in list(sys.modules.items()):
        if name.startswith("stackgen"):
            for value in vars(module).values():
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


@pytest.fixture
def profiles(tmp_path, monkeypatch) -> Path:
    """A copy of profiles/ that stackgen reads instead of its own."""
    copy = tmp_path / "profiles"
    shutil.copytree(REPO / "profiles", copy)
    real = resources.data_dir
    monkeypatch.setattr(resources, "data_dir", lambda name: copy if name == "profiles" else real(name))
    _clear_caches()
    yield copy
    monkeypatch.undo()
    _clear_caches()


def test_a_new_gpu_is_one_file(profiles, tmp_path, capsys):
    (profiles / "gpus" / "x100-96gb.yaml").write_text(NEW_GPU)
    (profiles / "providers" / "acme.yaml").write_text(NEW_PROVIDER)
    assert run(["size", "--model", "llama-3.1-70b", "--gpu", "X100", "--tp", "4", "-o", "json"]) == 0
    assert '"gpu": "x100-96gb"' in capsys.readouterr().out
    stack = tmp_path / "stackgen.yaml"
    stack.write_text(STACK)
    out = tmp_path / "deploy"
    assert run(["render", "-f", str(stack), "--output-dir", str(out)]) == 0
    deployment = (out / "models" / "chat" / "deployment.yaml").read_text()
    assert "nvidia.com/gpu.product: EXAMPLE-X100-96GB" in deployment       # the GPU's file
    assert "cloud.acme.example/node-pool: x100-pool" in deployment          # the provider's file
    assert "key: acme.example/gpu" in deployment
    assert "STACKGEN_GPU" in deployment and "x100-96gb" in deployment


def test_a_broken_gpu_file_names_the_file_and_field(profiles, capsys):
    (profiles / "gpus" / "x100-96gb.yaml").write_text(NEW_GPU.replace("bandwidth_gbs: 4000\n", ""))
    assert run(["size", "--model", "llama-3.1-8b", "--gpu", "h100"]) == 2
    err = capsys.readouterr().err
    assert "x100-96gb.yaml" in err and "bandwidth_gbs" in err and "Traceback" not in err


def test_an_unknown_provider_lists_the_profiles(profiles, tmp_path, capsys):
    stack = tmp_path / "stackgen.yaml"
    stack.write_text(STACK.replace("nvidia", "nvidia"))
    assert run(["plan", "-f", str(stack)]) == 2
    err = capsys.readouterr().err
    assert "spec.cluster.provider" in err and "'acme' is not a provider" in err and "gke" in err
