"""The one writer: rendered files -> a kustomize folder, atomically, deterministically.

It records the hash of every file it writes (`.stackgen/rendered.json`), refuses to
overwrite or delete a file the user edited unless forced, never touches `overlays/`
after creating it once, and can compare the folder with a fresh render (`--check`).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stackgen import yamlio
from stackgen.errors import CheckFailed, InputError
from stackgen.fsutil import atomic_write_text

MANIFEST = ".stackgen/rendered.json"
OVERLAYS = "overlays"
HEADER = ("# Rendered by stackgen from the stack file: change the stack file or\n"
          "# overlays/, not this file.\n")  # two lines: yamllint's 80 columns


def to_yaml(obj: dict[str, Any]) -> str:
    """Block-style YAML with sorted keys (as kubectl prints), deterministic, under the header."""
    return HEADER + "---\n" + yamlio.dump(obj)  # `---`: yamllint's document-start


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Changes:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    diff: str = ""
    first: bool = False          # the folder had never been rendered into

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed)


def _read_manifest(out: Path) -> dict[str, str] | None:
    path = out / MANIFEST
    if not path.is_file():
        return None
    try:
        return dict(json.loads(path.read_text())["files"])
    except (ValueError, KeyError, TypeError):
        raise InputError(f"{path} is not a stackgen render record", file=str(path),
                         fix="delete it and render with --force") from None


def compare(out: Path, files: dict[str, str]) -> Changes:
    """What writing `files` into `out` would change (tracked files only)."""
    previous = _read_manifest(out) or {}
    changes = Changes()
    chunks: list[str] = []
    for rel in sorted(set(files) | set(previous)):
        path = out / rel
        old = path.read_text() if path.is_file() else None
        new = files.get(rel)
        if old == new:
            continue
        if new is None:
            if old is None:
                continue
            changes.removed.append(rel)
        elif old is None:
            changes.added.append(rel)
        else:
            changes.changed.append(rel)
        chunks += difflib.unified_diff((old or "").splitlines(True), (new or "").splitlines(True),
                                       f"a/{rel}", f"b/{rel}")
    changes.diff = "".join(chunks)
    return changes


def edited_files(out: Path) -> list[str]:
    """Tracked files whose content is no longer what stackgen wrote."""
    previous = _read_manifest(out) or {}
    return sorted(rel for rel, digest in previous.items()
                  if (out / rel).is_file() and sha256((out / rel).read_text()) != digest)


def write(out: Path, files: dict[str, str], force: bool = False) -> Changes:
    """Write the rendered folder; raise InputError rather than clobber someone's work."""
    previous = _read_manifest(out)
    if previous is None and out.is_dir() and any(p.name != OVERLAYS for p in out.iterdir()) and not force:
        raise InputError(f"{out} already has files that stackgen did not render", file=str(out),
                         fix="render into an empty or new folder, or pass --force to take it over")
    changes = compare(out, files)
    changes.first = previous is None
    touched = set(changes.changed) | set(changes.removed)
    edited = [rel for rel in edited_files(out) if rel in touched]
    if edited and not force:
        raise InputError("refusing to overwrite files edited since the last render: "
                         + ", ".join(edited), file=str(out),
                         fix="move your change into overlays/ or the stack file, or pass --force")
    for rel in changes.added + changes.changed:
        atomic_write_text(out / rel, files[rel], fsync=False)
    for rel in changes.removed:
        (out / rel).unlink(missing_ok=True)
        _prune_empty(out, (out / rel).parent)
    os.sync()  # one flush for every file above, before the record that vouches for them
    record = {"generator": "stackgen", "files": {rel: sha256(text) for rel, text in sorted(files.items())}}
    atomic_write_text(out / MANIFEST, json.dumps(record, indent=2) + "\n")
    _overlays(out)
    return changes


def check(out: Path, files: dict[str, str]) -> Changes:
    """The CI drift gate: CheckFailed with the diff when `out` is not what would render."""
    if not out.is_dir():
        raise CheckFailed(f"{out} does not exist; run `stackgen render -o {out}`")
    changes = compare(out, files)
    if changes.any:
        raise CheckFailed(f"{out} is out of date with the stack file "
                          f"({len(changes.added)} to add, {len(changes.changed)} changed, "
                          f"{len(changes.removed)} to remove); run `stackgen render` and commit\n"
                          + changes.diff)
    return changes


def _prune_empty(out: Path, folder: Path) -> None:
    while folder != out and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


OVERLAY = ("# Your changes on top of the rendered stack: patches, images, replicas.\n"
           "# stackgen created this folder once and never writes to it again.\n"
           "# Build it with `kubectl kustomize overlays/production` (or apply -k).\n"
           "---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
           "resources:\n  - ../../base\n")
#: What earlier stackgen versions wrote: a base (`../..`) that contains the overlay, which kustomize
#: refuses as a cycle. Untouched copies of it are replaced; edited ones are the user's.
OLD_OVERLAY = ("# Your changes on top of the rendered stack: patches, images, replicas.\n"
               "# stackgen created this folder once and never writes to it again.\n"
               "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
               "resources:\n  - ../..\n")


def _overlays(out: Path) -> None:
    """Create overlays/ once, for the user's own patches; never touched again (except an
    untouched overlay of an older stackgen, whose base kustomize cannot build)."""
    folder = out / OVERLAYS
    target = folder / "production" / "kustomization.yaml"
    if folder.exists():
        try:
            old = target.read_text() == OLD_OVERLAY
        except OSError:
            old = False
        if old:
            atomic_write_text(target, OVERLAY)
        return
    atomic_write_text(target, OVERLAY)
