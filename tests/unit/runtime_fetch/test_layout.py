"""Where `stackgen-runtime-fetch` puts each rendered file, as Triton's backends read them:
config.pbtxt beside the version folder, model.json (the vLLM backend's engine arguments)
inside it, naming the weights the step fetched (tests/runtime/test_triton_server.py shows
the real tritonserver reading the result)."""

from __future__ import annotations

import json
from pathlib import Path

from stackgen.runtime.fetch import main

ENGINE_ARGS = {"model": "org/model", "tensor_parallel_size": 2, "max_model_len": 4096}


def configmap(root: Path, files: dict[str, str]) -> Path:
    """A folder laid out like a mounted ConfigMap: each key a link into ..data."""
    data = root / "..2026_01_01_00_00_00.000000001"
    data.mkdir(parents=True)
    (root / "..data").symlink_to(data.name)
    for key, text in files.items():
        (data / key).write_text(text)
        (root / key).symlink_to(Path("..data") / key)
    return root


def weights(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "config.json").write_text('{"model_type": "llama"}')
    (root / "model.safetensors").write_bytes(b"\0" * 16)
    return root


def rendered_vllm(tmp_path: Path, args: dict | None = None) -> Path:
    return configmap(tmp_path / "cm", {"config.pbtxt": 'name: "chat"\nbackend: "vllm"\n',
                                       "model.json": json.dumps(args or ENGINE_ARGS)})


def test_model_json_goes_into_the_version_folder(tmp_path: Path) -> None:
    dest = tmp_path / "models" / "chat"
    assert main(["--config-dir", str(rendered_vllm(tmp_path)), "--dest", str(dest)]) == 0
    assert (dest / "config.pbtxt").read_text() == 'name: "chat"\nbackend: "vllm"\n'
    assert not (dest / "model.json").exists()
    # without --source (a claim holds the weights) the rendered arguments stay as they are
    assert json.loads((dest / "1" / "model.json").read_text()) == ENGINE_ARGS
    assert sorted(p.name for p in dest.iterdir()) == ["1", "config.pbtxt"]


def test_fetched_weights_replace_the_rendered_model(tmp_path: Path, capsys) -> None:
    dest = tmp_path / "models" / "chat"
    source = weights(tmp_path / "src")
    assert main(["--config-dir", str(rendered_vllm(tmp_path)), "--dest", str(dest),
                 "--source", str(source)]) == 0
    version = dest / "1"
    args = json.loads((version / "model.json").read_text())
    assert args["model"] == str(version.absolute())
    assert {k: v for k, v in args.items() if k != "model"} == \
        {k: v for k, v in ENGINE_ARGS.items() if k != "model"}
    assert (version / "config.json").is_file() and (version / "model.safetensors").is_file()
    assert '"event": "fetch.model-local"' in capsys.readouterr().err


def test_relative_dest_gives_an_absolute_model_path(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    weights(tmp_path / "src")
    assert main(["--config-dir", str(rendered_vllm(tmp_path)), "--dest", "repo/chat",
                 "--source", "src"]) == 0
    args = json.loads((tmp_path / "repo" / "chat" / "1" / "model.json").read_text())
    assert args["model"] == str(tmp_path / "repo" / "chat" / "1")


def test_rendered_files_win_over_the_sources_own(tmp_path: Path) -> None:
    source = weights(tmp_path / "src")
    (source / "model.json").write_text('{"model": "stale", "tensor_parallel_size": 8}')
    dest = tmp_path / "models" / "chat"
    assert main(["--config-dir", str(rendered_vllm(tmp_path)), "--dest", str(dest),
                 "--source", str(source)]) == 0
    args = json.loads((dest / "1" / "model.json").read_text())
    assert args["tensor_parallel_size"] == ENGINE_ARGS["tensor_parallel_size"]


def test_other_backends_get_no_version_files(tmp_path: Path) -> None:
    config = configmap(tmp_path / "cm", {"config.pbtxt": 'name: "embed"\n'})
    source = tmp_path / "src"
    source.mkdir()
    (source / "model.onnx").write_bytes(b"\x08\x01")
    dest = tmp_path / "models" / "embed"
    assert main(["--config-dir", str(config), "--dest", str(dest), "--source", str(source)]) == 0
    assert sorted(p.name for p in (dest / "1").iterdir()) == ["model.onnx"]
    assert sorted(p.name for p in dest.iterdir()) == ["1", "config.pbtxt"]


def test_bad_model_json_is_exit_2(tmp_path: Path, capsys) -> None:
    config = configmap(tmp_path / "cm", {"model.json": "{not json"})
    code = main(["--config-dir", str(config), "--dest", str(tmp_path / "d"),
                 "--source", str(weights(tmp_path / "src"))])
    err = capsys.readouterr().err
    assert code == 2 and "model.json" in err and "Traceback" not in err
    assert not (tmp_path / "d").exists()  # it fails before fetching anything


def test_model_json_that_is_not_an_object_is_exit_2(tmp_path: Path, capsys) -> None:
    config = configmap(tmp_path / "cm", {"model.json": "[1, 2]"})
    code = main(["--config-dir", str(config), "--dest", str(tmp_path / "d"),
                 "--source", str(weights(tmp_path / "src"))])
    assert code == 2 and "expected a JSON object" in capsys.readouterr().err
