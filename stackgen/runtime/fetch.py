"""`stackgen-runtime-fetch`: the init step of a rendered Triton server. It lays out one
model of a Triton model repository from a mounted ConfigMap of rendered files and, with
--source, the model's own files:

    <dest>/config.pbtxt        beside the version folder, where Triton reads it
    <dest>/1/<source files>    --source: hf://, s3://, gs://, pvc:// or a local path
    <dest>/1/model.json        Triton's vLLM backend reads it from the version folder

With --source, model.json's "model" is set to the version folder, so the vLLM backend
loads the weights this step brought instead of fetching them itself when it starts. A
Hub snapshot stays in the download cache (a volume the server mounts too) and the version
folder links to its files, so the node's disk holds one copy."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from stackgen.runtime.errors import RuntimeInputError
from stackgen.runtime.logs import log

VERSION = "1"
#: Rendered files a backend reads from the version folder, not the model folder.
VERSION_FILES = frozenset({"model.json"})
#: Rendered files whose "model" key names the weights (Triton's vLLM backend).
ENGINE_ARGS = "model.json"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stackgen-runtime-fetch",
                                     description="Lay out one model of a Triton model repository.")
    parser.add_argument("--config-dir", required=True, help="Folder of rendered repository files.")
    parser.add_argument("--dest", required=True, help="The model's folder in the repository.")
    parser.add_argument("--source", help="hf://, s3://, gs://, pvc:// or a local path.")
    parser.add_argument("--cache-dir", default=None, help="Download cache (default: HF_HOME).")
    parser.add_argument("--pvc-root", default="/mnt/models")
    return parser


def rendered_files(config_dir: Path) -> list[Path]:
    """The ConfigMap's keys (a mounted ConfigMap also holds ..data links: skipped)."""
    if not config_dir.is_dir():
        raise RuntimeInputError(f"--config-dir {config_dir} is not a folder", event="fetch.invalid")
    return [p for p in sorted(config_dir.iterdir()) if p.is_file() and not p.name.startswith(".")]


def lay_out(config_dir: Path, dest: Path, source: str | None, cache_dir: str | None,
            pvc_root: str) -> int:
    files = rendered_files(config_dir)
    version_dir = dest / VERSION
    # Checked before a download that may take long: a bad file fails the step at once.
    engine_args = {p.name: _engine_args(p) for p in files if source and p.name == ENGINE_ARGS}
    dest.mkdir(parents=True, exist_ok=True)
    if source:
        _fetch(source, version_dir, cache_dir, pvc_root)
    # After the fetch, so the rendered files win over same-named files of the source.
    for item in files:
        target = (version_dir if item.name in VERSION_FILES else dest) / item.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():  # a link into the cache: never write through it
            target.unlink()
        if item.name in engine_args:
            _write_engine_args(engine_args[item.name], target, version_dir)
        else:
            shutil.copyfile(item, target)
    log("fetch.done", dest=str(dest), files=len(files), source=source or "")
    return 0


def _write_engine_args(args: dict, target: Path, weights: Path) -> None:
    """model.json with "model" pointing at the weights --source brought into `weights`."""
    local = str(weights.absolute())
    if args.get("model") != local:
        log("fetch.model-local", file=str(target), rendered=args.get("model"), model=local)
    target.write_text(json.dumps({**args, "model": local}, indent=2, sort_keys=True) + "\n")


def _engine_args(item: Path) -> dict:
    try:
        args = json.loads(item.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RuntimeInputError(f"{item}: not a JSON object of vLLM engine arguments ({exc}). "
                                "Fix the ConfigMap (or the stack it was rendered from).",
                                event="fetch.invalid") from None
    if not isinstance(args, dict):
        raise RuntimeInputError(f"{item}: expected a JSON object of vLLM engine arguments, "
                                f"got {type(args).__name__}", event="fetch.invalid")
    return args


def _fetch(source: str, version_dir: Path, cache_dir: str | None, pvc_root: str) -> None:
    """Bring any model's files (not only Hugging Face folders) into the version folder."""
    from stackgen.runtime import source as src

    if source.startswith(("s3://", "gs://")):
        bucket, prefix = src._bucket_and_prefix(source)
        download = src._download_s3 if source.startswith("s3://") else src._download_gs
        if download(bucket, prefix, version_dir) == 0:
            raise RuntimeInputError(f"{source} holds no files", event="fetch.empty")
        return
    if source.startswith("hf://"):
        _link_tree(src.resolve_hf(source, cache_dir).path, version_dir)
        return
    if source.startswith("pvc://"):
        claim, _, sub = source[len("pvc://"):].strip("/").partition("/")
        folder = Path(pvc_root) / claim / sub
    else:
        folder = Path(source)
    if not folder.exists():
        raise RuntimeInputError(f"model source {source!r}: {folder} does not exist",
                                event="fetch.missing")
    if folder.is_file():
        version_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder, version_dir / folder.name)
    else:
        shutil.copytree(folder, version_dir, dirs_exist_ok=True, symlinks=False)


def _link_tree(folder: Path, version_dir: Path) -> None:
    """Links every file of `folder` (a Hub snapshot: links into the cache's blobs) from the
    version folder, by absolute path, so the server reads them where the cache is mounted."""
    for path in sorted(folder.rglob("*")):
        if path.is_dir():
            continue
        target = version_dir / path.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.exists():
            target.unlink()
        target.symlink_to(path.resolve())


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return lay_out(Path(args.config_dir), Path(args.dest), args.source, args.cache_dir,
                       args.pvc_root)
    except RuntimeInputError as err:
        print(f"stackgen-runtime-fetch: {err.message}", file=sys.stderr)
        return err.exit_code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
