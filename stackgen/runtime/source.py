"""Turns a model source (hf://, pvc://, s3://, gs://, a path) into a local folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from stackgen.runtime.errors import RuntimeInputError
from stackgen.runtime.logs import log

DEFAULT_CACHE = "/models-cache"


@dataclass(frozen=True)
class ResolvedModel:
    source: str
    path: Path
    kind: str  # local | pvc | hf | s3 | gs
    default_name: str


def cache_root(configured: str | None) -> Path:
    """Where downloads go: the settings' modelCacheDir, else HF_HOME, else ~/.cache."""
    if configured:
        return Path(configured)
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"])
    return Path.home() / ".cache" / "huggingface"


def _require_folder(path: Path, source: str, hint: str) -> Path:
    if not path.exists():
        raise RuntimeInputError(
            f"model {source!r}: {path} does not exist. {hint}",
            event="model.missing",
            source=source,
            path=str(path),
        )
    if path.is_dir() and not (path / "config.json").is_file():
        raise RuntimeInputError(
            f"model {source!r}: {path} has no config.json, so it is not a Hugging Face "
            f"model folder. {hint}",
            event="model.invalid",
            source=source,
            path=str(path),
        )
    return path


def resolve_local(source: str) -> ResolvedModel:
    raw = source[len("file://") :] if source.startswith("file://") else source
    path = Path(raw).expanduser().resolve()
    _require_folder(path, source, "Point `model` at a folder holding config.json and weights.")
    return ResolvedModel(source, path, "local", path.name)


def resolve_pvc(source: str, mount_root: str) -> ResolvedModel:
    rest = source[len("pvc://") :].strip("/")
    claim, _, sub = rest.partition("/")
    if not claim:
        raise RuntimeInputError(
            f"model {source!r}: expected pvc://CLAIM/PATH.", event="model.invalid", source=source
        )
    path = Path(mount_root) / claim / sub
    hint = (
        f"The claim {claim!r} must be mounted at {Path(mount_root) / claim} "
        "(pvcMountRoot in the settings) and hold the model under that path."
    )
    _require_folder(path, source, hint)
    return ResolvedModel(source, path, "pvc", Path(sub).name or claim)


def split_hf(source: str) -> tuple[str, str | None]:
    repo = source[len("hf://") :].strip("/")
    repo, _, revision = repo.partition("@")
    if repo.count("/") > 1 or not repo:
        raise RuntimeInputError(
            f"model {source!r}: expected hf://ORG/NAME or hf://ORG/NAME@REVISION.",
            event="model.invalid",
            source=source,
        )
    return repo, revision or None


def resolve_hf(source: str, cache_dir: str | None) -> ResolvedModel:
    """Downloads (or, offline, finds) a snapshot with huggingface_hub."""
    repo, revision = split_hf(source)
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise _missing_library(source, "huggingface_hub", "huggingface_hub") from None
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}
    hub_cache = cache_root(cache_dir) / "hub"
    log("model.fetch", source=source, repo=repo, revision=revision, cache=str(hub_cache),
        offline=offline)
    try:
        folder = snapshot_download(repo_id=repo, revision=revision, cache_dir=str(hub_cache))
    except Exception as exc:  # noqa: BLE001 - the hub raises many types; all are reported
        why = "HF_HUB_OFFLINE is set and the model is not in the cache" if offline else str(exc)
        raise RuntimeInputError(
            f"model {source!r}: cannot get it from the Hugging Face Hub into {hub_cache}: "
            f"{why}. Check the name and revision, the token (HF_TOKEN) for gated models, "
            "or pre-load the cache volume.",
            event="model.unavailable",
            source=source,
            error=type(exc).__name__,
        ) from None
    return ResolvedModel(source, Path(folder), "hf", repo)


def _missing_library(source: str, module: str, package: str) -> RuntimeInputError:
    return RuntimeInputError(
        f"model {source!r}: the {module} library is needed for this source and is not "
        f"installed. Install it in the runtime image (pip install {package}) or copy the model "
        "to a volume and use pvc:// or a local path.",
        event="model.library-missing",
        source=source,
        package=package,
    )


def _bucket_and_prefix(source: str) -> tuple[str, str]:
    rest = source.split("://", 1)[1]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise RuntimeInputError(
            f"model {source!r}: expected SCHEME://BUCKET/PREFIX.", event="model.invalid",
            source=source,
        )
    return bucket, prefix.strip("/")


def _download_s3(bucket: str, prefix: str, dest: Path) -> int:
    import boto3

    client = boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
    count = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            rel = item["Key"][len(prefix) :].lstrip("/")
            if not rel or rel.endswith("/"):
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket, item["Key"], str(target))
            count += 1
    return count


def _download_gs(bucket: str, prefix: str, dest: Path) -> int:
    from google.cloud import storage

    count = 0
    for blob in storage.Client().list_blobs(bucket, prefix=prefix):
        rel = blob.name[len(prefix) :].lstrip("/")
        if not rel or rel.endswith("/"):
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        blob.download_to_filename(str(target))
        count += 1
    return count


OBJECT_STORES = {
    "s3": ("boto3", "boto3", _download_s3),
    "gs": ("google.cloud.storage", "google-cloud-storage", _download_gs),
}


def resolve_object_store(source: str, cache_dir: str | None) -> ResolvedModel:
    scheme = source.split("://", 1)[0]
    module, package, download = OBJECT_STORES[scheme]
    bucket, prefix = _bucket_and_prefix(source)
    try:
        __import__(module)
    except ImportError:
        raise _missing_library(source, module, package) from None
    dest = cache_root(cache_dir) / scheme / bucket / prefix
    if (dest / "config.json").is_file():
        log("model.cached", source=source, path=str(dest))
    else:
        log("model.fetch", source=source, dest=str(dest))
        try:
            count = download(bucket, prefix, dest)
        except Exception as exc:  # noqa: BLE001 - cloud SDKs raise many types
            raise RuntimeInputError(
                f"model {source!r}: download failed: {type(exc).__name__}: {exc}. Check the "
                "bucket, the prefix and the credentials the pod gets.",
                event="model.unavailable",
                source=source,
            ) from None
        log("model.fetched", source=source, files=count)
    _require_folder(dest, source, "The prefix must hold a Hugging Face model folder.")
    return ResolvedModel(source, dest, scheme, Path(prefix).name or bucket)


def resolve_model(source: str, *, cache_dir: str | None, pvc_root: str) -> ResolvedModel:
    """Dispatches on the scheme; every failure is a RuntimeInputError (exit 2)."""
    if source.startswith("hf://"):
        resolved = resolve_hf(source, cache_dir)
    elif source.startswith("pvc://"):
        resolved = resolve_pvc(source, pvc_root)
    elif source.startswith(("s3://", "gs://")):
        resolved = resolve_object_store(source, cache_dir)
    else:
        resolved = resolve_local(source)
    log("model.resolved", source=source, kind=resolved.kind, path=str(resolved.path))
    return resolved
