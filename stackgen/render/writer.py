"""The one writer: rendered files -> a kustomize folder, atomically, deterministically.

It records the hash of every file it writes (`.stackgen/rendered.json`), refuses to
overwrite or delete a file the user edited unless forced, never touches `overlays/`
after creating it once, and can compare the folder with a fresh render (`--check`, which
also reports files stackgen did not render).

Atomic per folder: the new folder is staged beside the old one (unchanged files and the
user's overlays hard-linked, so staging costs only the changed files), flushed, then
swapped in by two renames. A failure while staging (no space, no permission) removes the
stage and leaves the old folder exactly as it was; the error names the path and exits 2.
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import json
import os
import shutil
import tempfile
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
    if out.is_symlink():
        out = out.resolve()  # swap the folder the link points at, keep the link
    if out.exists() and not out.is_dir():
        raise InputError("it is a file, not a folder", file=str(out),
                         fix="pass a folder for --output-dir (a new or a rendered one)")
    try:
        previous = _read_manifest(out)
        if previous is None and out.is_dir() and any(p.name != OVERLAYS for p in out.iterdir()) \
                and not force:
            raise InputError("the folder already has files that stackgen did not render", file=str(out),
                             fix="render into an empty or new folder, or pass --force to take it over")
        changes = compare(out, files)
        changes.first = previous is None
        touched = set(changes.changed) | set(changes.removed)
        edited = [rel for rel in edited_files(out) if rel in touched]
        if edited and not force:
            raise InputError("refusing to overwrite files edited since the last render: "
                             + ", ".join(edited), file=str(out),
                             fix="move your change into overlays/ or the stack file, or pass --force")
        _stage_and_swap(out, files, changes)
    except OSError as err:
        raise _write_error(out, err) from None
    return changes


def _write_error(out: Path, err: OSError) -> InputError:
    where = err.filename or out
    reason = err.strerror or str(err)
    fixes = {errno.ENOSPC: "free space on that filesystem (or render elsewhere)",
             errno.EDQUOT: "free space within your quota (or render elsewhere)",
             errno.EACCES: "render into a folder you can write (and whose parent you can write)",
             errno.EPERM: "render into a folder you can write (and whose parent you can write)",
             errno.EROFS: "render into a folder on a writable filesystem",
             errno.ENOTDIR: "a path component is a file: pass a folder path"}
    return InputError(f"cannot write the folder: {reason} ({where}); it was left as it was",
                      file=str(out), fix=fixes.get(err.errno or 0, "check the path and retry"))


def _link_tree(src: Path, dst: Path) -> None:
    """`dst` mirrors `src`: folders made, files hard-linked (copied where links fail),
    symlinks recreated as symlinks."""
    for root, dirs, names in os.walk(src):
        rel = Path(root).relative_to(src)
        for d in dirs:
            target = dst / rel / d
            if (Path(root) / d).is_symlink():
                os.symlink(os.readlink(Path(root) / d), target)
            else:
                target.mkdir()
                shutil.copymode(Path(root) / d, target)
        dirs[:] = [d for d in dirs if not (Path(root) / d).is_symlink()]
        for name in names:
            source, target = Path(root) / name, dst / rel / name
            if source.is_symlink():
                os.symlink(os.readlink(source), target)
                continue
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)


def _put(path: Path, text: str) -> None:
    """A new file at `path` in the stage (never through a hard link to the live folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def _stage_and_swap(out: Path, files: dict[str, str], changes: Changes) -> None:
    parent = out.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.stackgen-new-", dir=parent))
    try:
        if out.is_dir():
            shutil.copymode(out, stage)
            _link_tree(out, stage)
        else:
            os.chmod(stage, 0o777 & ~_umask())
        for rel in changes.added + changes.changed:
            _put(stage / rel, files[rel])
        for rel in changes.removed:
            (stage / rel).unlink(missing_ok=True)
            _prune_empty(stage, (stage / rel).parent)
        record = {"generator": "stackgen",
                  "files": {rel: sha256(text) for rel, text in sorted(files.items())}}
        _put(stage / MANIFEST, json.dumps(record, indent=2) + "\n")
        _overlays(stage)
        os.sync()  # one flush for the whole stage, before it becomes the folder
        if not out.exists():
            os.rename(stage, out)
            return
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.stackgen-old-", dir=parent))
        os.rmdir(old)
        try:
            os.rename(out, old)
        except OSError as err:
            if err.errno not in (errno.EBUSY, errno.EXDEV, errno.EINVAL, errno.EPERM, errno.EACCES):
                raise
            _write_in_place(out, stage, files, changes)  # a mount point or the root: no swap
            return
        os.rename(stage, out)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _write_in_place(out: Path, stage: Path, files: dict[str, str], changes: Changes) -> None:
    """The fallback where the folder cannot be renamed: file by file, each atomic."""
    for rel in changes.added + changes.changed:
        atomic_write_text(out / rel, files[rel], fsync=False)
    for rel in changes.removed:
        (out / rel).unlink(missing_ok=True)
        _prune_empty(out, (out / rel).parent)
    os.sync()
    atomic_write_text(out / MANIFEST, (stage / MANIFEST).read_text())
    _overlays(out)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def strays(out: Path, files: dict[str, str]) -> list[str]:
    """Files in `out` that stackgen did not render (outside overlays/ and .stackgen/)."""
    found = []
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if rel.split("/")[0] in (OVERLAYS, ".stackgen") or path.is_dir():
            continue
        if rel not in files:
            found.append(rel)
    return found


def check(out: Path, files: dict[str, str]) -> Changes:
    """The CI drift gate: CheckFailed with the diff when `out` is not what would render."""
    if not out.is_dir():
        raise CheckFailed(f"{out} does not exist; run `stackgen render -o {out}`")
    changes = compare(out, files)
    extra = strays(out, files)
    if changes.any or extra:
        others = (f"; {len(extra)} file(s) stackgen did not render (move them into overlays/ "
                  f"or delete them): {', '.join(extra)}") if extra else ""
        raise CheckFailed(f"{out} is out of date with the stack file "
                          f"({len(changes.added)} to add, {len(changes.changed)} changed, "
                          f"{len(changes.removed)} to remove{others}); run `stackgen render` "
                          "and commit\n" + changes.diff)
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
