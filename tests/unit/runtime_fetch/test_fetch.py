"""The Triton init step lays out a real model repository folder from a local source."""

from __future__ import annotations

from pathlib import Path

from stackgen.runtime.fetch import main


def test_lays_out_config_and_version_folder(tmp_path: Path) -> None:
    config = tmp_path / "cm"
    config.mkdir()
    (config / "config.pbtxt").write_text('name: "embed"\n')
    source = tmp_path / "src"
    source.mkdir()
    (source / "model.onnx").write_bytes(b"\x08\x01")
    dest = tmp_path / "models" / "embed"
    assert main(["--config-dir", str(config), "--dest", str(dest), "--source", str(source)]) == 0
    assert (dest / "config.pbtxt").read_text() == 'name: "embed"\n'
    assert (dest / "1" / "model.onnx").read_bytes() == b"\x08\x01"


def test_missing_source_is_exit_2(tmp_path: Path, capsys) -> None:
    config = tmp_path / "cm"
    config.mkdir()
    code = main(["--config-dir", str(config), "--dest", str(tmp_path / "d"),
                 "--source", str(tmp_path / "nowhere")])
    assert code == 2 and "nowhere" in capsys.readouterr().err
