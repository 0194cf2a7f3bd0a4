"""The stack file loader: valid files load; every kind of bad input names file, line,
field and fix, and never raises anything but InputError."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from stackgen.errors import InputError
from stackgen.spec import load_stack

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"

GOOD = """\
apiVersion: stackgen.dev/v1alpha1
kind: Stack
metadata: {name: demo, namespace: ml}
spec:
  cluster:
    provider: gke
    nodePools:
      - {name: gpu, gpu: H100, nodes: 1, gpusPerNode: 8}
  models:
    - name: chat
      source: hf://meta-llama/Llama-3.1-8B-Instruct
      kind: llm
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "stackgen.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def error_for(tmp_path: Path, text: str) -> InputError:
    with pytest.raises(InputError) as info:
        load_stack(write(tmp_path, text))
    return info.value


@pytest.mark.parametrize("example", ["llm-only", "platform"])
def test_examples_load(example: str) -> None:
    stack = load_stack(EXAMPLES / example / "stackgen.yaml")
    assert stack.spec.models


def test_defaults_are_filled(tmp_path: Path) -> None:
    stack = load_stack(write(tmp_path, GOOD))
    model = stack.spec.models[0]
    assert stack.namespace == "ml"
    assert model.traffic.peak_rps == 1.0 and model.team == "default"
    assert stack.spec.requirements.orchestration == "auto"
    assert stack.spec.cluster.node_pools[0].gpus == 8


def test_unknown_key_names_line_and_allowed_keys(tmp_path: Path) -> None:
    err = error_for(tmp_path, GOOD + "      tarffic: {peakRps: 3}\n")
    assert err.line == 13
    assert err.field == "spec.models[0].tarffic"
    assert "traffic" in err.fix and "unknown key" in err.message
    assert str(tmp_path / "stackgen.yaml") in err.render()


def test_bad_name_is_dns1123(tmp_path: Path) -> None:
    err = error_for(tmp_path, GOOD.replace("name: chat", "name: Chat_Bot"))
    assert err.field == "spec.models[0].name" and err.line == 10
    assert "DNS-1123" in err.message


def test_every_problem_is_reported(tmp_path: Path) -> None:
    text = GOOD.replace("kind: llm", "kind: llm\n      nodePool: nope").replace("gpu: H100", "gpu: h999")
    err = error_for(tmp_path, text)
    fields = {e.field for e in err.errors}
    assert fields == {"spec.cluster.nodePools[0].gpu", "spec.models[0].nodePool"}
    rendered = err.render()
    assert "h100-80gb" in rendered and "use one of: gpu" in rendered


def test_missing_required_key(tmp_path: Path) -> None:
    err = error_for(tmp_path, GOOD.replace("      kind: llm\n", ""))
    assert err.field == "spec.models[0].kind" and "missing" in err.message


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    err = error_for(tmp_path, GOOD.replace("kind: llm", "kind: [llm"))
    assert err.line is not None and err.line >= 12
    assert "invalid YAML" in err.message


def test_duplicate_keys_and_names(tmp_path: Path) -> None:
    err = error_for(tmp_path, GOOD.replace("kind: llm", "kind: llm\n      kind: vision"))
    assert "invalid YAML" in err.message
    dup = GOOD + "    - {name: chat, source: 'hf://x/y', kind: llm}\n"
    assert "duplicate name 'chat'" in error_for(tmp_path, dup).message


def test_cross_checks(tmp_path: Path) -> None:
    llm_framework = GOOD.replace("kind: llm", "kind: llm\n      framework: onnx")
    assert "non-LLM" in error_for(tmp_path, llm_framework).message
    vllm_xgb = GOOD.replace("kind: llm", "kind: tabular\n      framework: xgboost\n      engine: vllm")
    assert "cannot serve a xgboost model" in error_for(tmp_path, vllm_xgb).message
    bad_mig = GOOD.replace("gpusPerNode: 8}", "gpusPerNode: 8, mig: 9g.99gb}")
    assert "MIG profile" in error_for(tmp_path, bad_mig).message
    missing_cfg = GOOD.replace("kind: llm", "kind: llm\n      modelConfig: nowhere/config.json")
    err = error_for(tmp_path, missing_cfg)
    assert err.field == "spec.models[0].modelConfig" and "not found" in err.message


def test_engines_come_from_the_server_catalog(tmp_path: Path) -> None:
    """`engine:` is checked against profiles/servers/: an unknown one lists the known ones,
    and KServe's own Hugging Face server cannot be asked for without KServe (it rendered a
    Triton config with `backend: "None"` before)."""
    unknown = error_for(tmp_path, GOOD.replace("kind: llm", "kind: llm\n      engine: sglang"))
    assert unknown.field == "spec.models[0].engine"
    assert "kserve-huggingface" in unknown.message and "tensorrt-llm" in unknown.message
    hf_alone = GOOD.replace("kind: llm", "kind: llm\n      engine: kserve-huggingface") \
        + "  requirements: {orchestration: none}\n"
    err = error_for(tmp_path, hf_alone)
    assert err.field == "spec.models[0].engine"
    assert "orchestration kserve" in err.message and "orchestration: kserve" in err.fix
    trt_embed = GOOD.replace("kind: llm", "kind: embedding\n      engine: tensorrt-llm")
    assert "serves llm models, not embedding" in error_for(tmp_path, trt_embed).message


def test_not_a_mapping_and_missing_file(tmp_path: Path) -> None:
    assert "mapping" in error_for(tmp_path, "- 1\n- 2\n").message
    with pytest.raises(InputError, match="not found"):
        load_stack(tmp_path / "nope.yaml")


def test_norway_and_type_coercion(tmp_path: Path) -> None:
    err = error_for(tmp_path, GOOD.replace("nodes: 1", "nodes: lots"))
    assert err.field == "spec.cluster.nodePools[0].nodes"
    assert "lots" in err.message


def test_model_config_is_read_only_from_inside_the_stack_files_folder(tmp_path: Path) -> None:
    """A stack file from a pull request must not make plan read /etc/passwd or a file
    beside the repository: absolute paths, `..` and symlinks out are refused, exit 2."""
    import json

    (tmp_path / "outside.json").write_text(json.dumps({"model_type": "llama"}))
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "configs").mkdir()
    (folder / "configs" / "link.json").symlink_to(tmp_path / "outside.json")
    for path, words in (("/etc/passwd", "absolute path"), ("../outside.json", "outside"),
                        ("configs/link.json", "outside"), ("configs/../../outside.json", "outside")):
        text = GOOD.replace("kind: llm", f"kind: llm\n      modelConfig: {path}")
        err = error_for(folder, text)
        assert err.field == "spec.models[0].modelConfig" and words in err.message, (path, err.message)
        assert "stack file's folder" in err.fix
    (folder / "configs" / "real.json").write_text((tmp_path / "outside.json").read_text())
    ok = folder / "stackgen.yaml"
    ok.write_text(GOOD.replace("kind: llm", "kind: llm\n      modelConfig: configs/real.json"))
    assert load_stack(ok).spec.models[0].model_config_path == "configs/real.json"


@pytest.mark.parametrize("value,words", [
    ("{min: 3, max: 1}", "min (3) is greater than max (1)"),
    ("{min: 1}", "required key 'max' is missing"),
    ("'x'", "valid integer"),
])
def test_union_fields_speak_the_stack_files_language(tmp_path: Path, value, words) -> None:
    """replicas is a number or {min, max}: no pydantic member tags or class names leak."""
    err = error_for(tmp_path, GOOD.replace("kind: llm", f"kind: llm\n      replicas: {value}"))
    text = f"{err.field}: {err.message}"
    assert words in text
    for leak in ("constrained-int", "function-after", "ReplicaRange", "instance of", "[_"):
        assert leak not in text, text


def test_a_folder_or_missing_path_as_the_stack_file(tmp_path: Path) -> None:
    (tmp_path / "stackgen.yaml").write_text(GOOD)
    with pytest.raises(InputError) as folder:
        load_stack(tmp_path)
    assert "a folder, not a stack file" in folder.value.message
    assert "holds a stackgen.yaml" in folder.value.message
    with pytest.raises(InputError) as missing:
        load_stack(tmp_path / "nope.yaml")
    assert missing.value.message == "stack file not found"  # the path is the error's file
