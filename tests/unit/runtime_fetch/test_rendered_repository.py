"""What `stackgen render` gives the Triton init step and server, checked against what the
real tritonserver needs (tests/runtime/test_triton_server.py runs it): every source but a
claim is fetched into the version folder, the vLLM backend's claim is mounted beside the
repository (the version folder holds model.json), and a TensorFlow config names its
platform."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stackgen.catalog import stack_facts
from stackgen.decide import decide
from stackgen.render import render_files
from stackgen.runtime.fetch import main as fetch
from stackgen.spec import load_stack
from stackgen.yamlio import load_all

STACK = """\
apiVersion: stackgen.dev/v1alpha1
kind: Stack
metadata: {{name: layout, namespace: t}}
spec:
  cluster:
    provider: generic
    nodePools:
      - {{name: l4, gpu: l4-24gb, nodes: 4, gpusPerNode: 1}}
  models:
    - {{name: hub, source: "hf://meta-llama/Llama-3.1-8B-Instruct", kind: llm, maxModelLen: 4096}}
    - {{name: claim, source: "pvc://weights/llama/8b", kind: llm, maxModelLen: 4096,
       modelConfig: {config}}}
    - {{name: tfm, source: "s3://models/tfm", kind: vision, framework: tensorflow}}
    - {{name: onnx, source: "pvc://weights/onnx", kind: vision, framework: onnx}}
  requirements: {{unifiedApi: true}}
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    work = tmp_path_factory.mktemp("rendered")
    (work / "config.json").write_text(json.dumps({
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
        "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
        "num_key_value_heads": 8, "vocab_size": 128256, "max_position_embeddings": 8192,
        "torch_dtype": "bfloat16"}))
    path = work / "stackgen.yaml"
    path.write_text(STACK.format(config="config.json"))
    stack = load_stack(path)
    return render_files(stack, decide(stack, stack_facts(stack, path.parent)))


def doc(files: dict[str, str], rel: str) -> dict:
    (only,) = [d for d in load_all(files[rel]) if d]
    return only


def pod(files: dict[str, str], model: str) -> dict:
    return doc(files, f"models/{model}/deployment.yaml")["spec"]["template"]["spec"]


def repository(files: dict[str, str], model: str) -> dict[str, str]:
    return doc(files, f"models/{model}/configmap.yaml")["data"]


def test_a_hub_llm_is_fetched_by_the_init_step(files) -> None:
    spec = pod(files, "hub")
    (init,) = spec["initContainers"]
    command = init["command"]
    assert command[command.index("--source") + 1] == "hf://meta-llama/Llama-3.1-8B-Instruct"
    # HF_HOME is on the cache volume, which the server mounts at the same path, so the
    # version folder's links into the snapshot resolve in both containers
    hf_home = next(e["value"] for e in init["env"] if e["name"] == "HF_HOME")
    cache = {m["mountPath"] for m in init["volumeMounts"] if m["name"] == "model-cache"}
    (served,) = spec["containers"]
    assert cache == {m["mountPath"] for m in served["volumeMounts"] if m["name"] == "model-cache"}
    assert len(cache) == 1 and hf_home.startswith(f"{next(iter(cache))}/")
    args = json.loads(repository(files, "hub")["model.json"])
    assert args["model"] == "/models/hub/1"  # where --dest/1 is, not a Hub id


def test_the_vllm_backends_claim_does_not_hide_the_version_folder(files) -> None:
    spec = pod(files, "claim")
    assert "--source" not in spec["initContainers"][0]["command"]
    (triton,) = spec["containers"]
    mounts = {m["mountPath"]: m for m in triton["volumeMounts"]}
    assert "/models/claim/1" not in mounts
    claim = mounts["/mnt/models/weights"]
    assert claim["name"] == "model-source" and claim["readOnly"] and "subPath" not in claim
    volume = next(v for v in spec["volumes"] if v["name"] == "model-source")
    assert volume["persistentVolumeClaim"]["claimName"] == "weights"
    assert json.loads(repository(files, "claim")["model.json"])["model"] == \
        "/mnt/models/weights/llama/8b"


def test_other_backends_keep_the_claim_as_their_version_folder(files) -> None:
    (triton,) = pod(files, "onnx")["containers"]
    mount = next(m for m in triton["volumeMounts"] if m["name"] == "model-source")
    assert (mount["mountPath"], mount["subPath"]) == ("/models/onnx/1", "onnx")


def test_a_tensorflow_config_names_its_platform(files) -> None:
    config = repository(files, "tfm")["config.pbtxt"].splitlines()
    assert 'platform: "tensorflow_savedmodel"' in config and 'backend: "tensorflow"' in config


def test_the_rendered_claim_repository_lays_out_as_the_pod_sees_it(files, tmp_path) -> None:
    """The init step writes model.json into the emptyDir's version folder; the claim is
    mounted elsewhere, so tritonserver finds model.json and vLLM the claim's folder."""
    config = tmp_path / "cm"
    config.mkdir()
    for key, text in repository(files, "claim").items():
        (config / key).write_text(text)
    init = pod(files, "claim")["initContainers"][0]["command"]
    assert init == ["stackgen-runtime-fetch", "--config-dir", "/etc/stackgen/repository",
                    "--dest", "/models/claim"]
    dest = tmp_path / "models" / "claim"
    assert fetch(["--config-dir", str(config), "--dest", str(dest)]) == 0
    args = json.loads((dest / "1" / "model.json").read_text())
    assert args["model"] == "/mnt/models/weights/llama/8b"
    assert not (dest / "model.json").exists()
