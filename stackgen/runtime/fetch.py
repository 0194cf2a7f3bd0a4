"""`stackgen-runtime-fetch`: the init step of a rendered Triton server. It lays out one
model of a Triton model repository: the rendered files (config.pbtxt, model.json) from a
mounted ConfigMap, and, with --source, the model's files in version folder 1."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from stackgen.runtime.errors import RuntimeInputError
from stackgen.runtime.logs import log


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stackgen-runtime-fetch",
                                     description="Lay out one model of a Triton model repository.")
    parser.add_argument("--config-dir", required=True, help="Folder of rendered repository files.")
    parser.add_argument("--dest", required=True, help="The model's folder in the repository.")
    parser.add_argument("--source", help="hf://, s3://, gs://, pvc:// or a local path.")
    parser.add_argument("--cache-dir", default=None, help="Download cache (default: HF_HOME).")
    parser.add_argument("--pvc-root", default="/mnt/models")
    return parser


def lay_out(config_dir: Path, dest: Path, source: str | None, cache_dir: str | None,
            pvc_root: str) -> int:
    if not config_dir.is_dir():
        raise RuntimeInputError(f"--config-dir {config_dir} is not a folder", event="fetch.invalid")
    dest.mkdir(parents=True, exist_ok=True)
    copied = 0
    for item in sorted(config_dir.iterdir()):
        if item.is_file() and not item.name.startswith("."):
            shutil.copyfile(item, dest / item.name)
            copied += 1
    if source:
        _fetch(source, dest / "1", cache_dir, pvc_root)
    log("fetch.done", dest=str(dest), files=copied, source=source or "")
    return 0


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
        folder = src.resolve_hf(source, cache_dir).path
    elif source.startswith("pvc://"):
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
