"""A hf:// source: the real CLI (in ./.venv-runtime, which has huggingface_hub) resolves it
offline from a hub cache and links the snapshot's files from the version folder instead
of copying them; the rendered model.json replaces the snapshot's without writing through
its link into the cache."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from _require import require

REPO = Path(__file__).resolve().parents[3]
RUNTIME_VENV = Path(os.environ.get("STACKGEN_RUNTIME_VENV", REPO / ".venv-runtime"))
FETCH = RUNTIME_VENV / "bin" / "stackgen-runtime-fetch"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def hub_cache(hf_home: Path, repo: str, files: dict[str, bytes]) -> Path:
    """A hub cache as huggingface_hub writes it: the snapshot's files link into blobs/."""
    folder = hf_home / "hub" / ("models--" + repo.replace("/", "--"))
    snapshot = folder / "snapshots" / COMMIT
    (folder / "blobs").mkdir(parents=True)
    snapshot.mkdir(parents=True)
    for i, (name, data) in enumerate(sorted(files.items())):
        (folder / "blobs" / f"blob{i}").write_bytes(data)
        (snapshot / name).symlink_to(Path("..") / ".." / "blobs" / f"blob{i}")
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(COMMIT)
    return folder / "blobs"


def test_a_hub_snapshot_is_linked_not_copied(tmp_path: Path) -> None:
    require(FETCH.exists(), f"{FETCH} is absent", flag="STACKGEN_REQUIRE_RUNTIME",
            fix="run `make runtime-venv` to create it")
    files = {"config.json": b'{"model_type": "llama"}', "model.json": b'{"model": "stale"}',
             "model.safetensors": bytes(range(64))}
    blobs = hub_cache(tmp_path / "hf", "acme/tiny", files)
    config = tmp_path / "cm"
    config.mkdir()
    (config / "config.pbtxt").write_text('name: "chat"\nbackend: "vllm"\n')
    (config / "model.json").write_text('{"model": "acme/tiny", "max_model_len": 512}')
    dest = tmp_path / "models" / "chat"
    done = subprocess.run([str(FETCH), "--config-dir", str(config), "--dest", str(dest),
                           "--source", "hf://acme/tiny"], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "HF_HOME": str(tmp_path / "hf"),
                                            "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr
    version = dest / "1"
    for name in ("config.json", "model.safetensors"):
        assert (version / name).is_symlink(), name
        assert (version / name).resolve().parent == blobs.resolve()
        assert (version / name).read_bytes() == files[name]
    assert not (version / "model.json").is_symlink()
    assert json.loads((version / "model.json").read_text()) == {"model": str(version),
                                                               "max_model_len": 512}
    assert sorted(p.read_bytes() for p in blobs.iterdir()) == sorted(files.values())
