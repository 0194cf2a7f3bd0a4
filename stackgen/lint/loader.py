"""Read manifest files into objects that remember where each field is.

PyYAML's libyaml composer (stackgen.yamlio.FastLoader, which also bounds alias expansion)
gives every node its 1-based line at C speed (ruamel's round-trip loader gives the same
lines ~10x slower, and this is the hot path). A file that does not parse in one go is split
into documents, so a syntax error in one document is reported with its line while the
other documents are still linted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any, Iterator

import yaml

from stackgen import yamlio
from stackgen.lint.model import ObjectRef, Path

_Loader = yamlio.FastLoader  # libyaml's composer (pure PyYAML without it), aliases bounded

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
_DOC_START = re.compile(r"^---(?:[ \t]|$)", re.M)
NOT_OBJECTS = {"Kustomization", "Component"}  # kustomize files that sit beside manifests


@dataclass
class LintObject:
    """One Kubernetes object from one document of one file."""

    data: dict
    file: str
    node: Any  # the yaml mapping node of the object
    lines: list[str] = field(repr=False)
    offset: int = 0  # 0-based line of the document's start within the file
    ref: ObjectRef = field(init=False)

    def __post_init__(self) -> None:
        meta = self.data.get("metadata") if isinstance(self.data.get("metadata"), dict) else {}
        self.ref = ObjectRef(_str(self.data.get("apiVersion")), _str(self.data.get("kind")),
                             _str(meta.get("name")), _str(meta.get("namespace")))

    @property
    def kind(self) -> str:
        return self.ref.kind or ""

    def annotations(self) -> dict:
        meta = self.data.get("metadata")
        ann = meta.get("annotations") if isinstance(meta, dict) else None
        return ann if isinstance(ann, dict) else {}

    def line_of(self, path: Path) -> int:
        """The 1-based line of the deepest part of `path` present in the file."""
        node, line = self.node, self.kind_line()
        for part in path:
            child = _child(node, part)
            if child is None:
                break
            line, node = child[0] + self.offset, child[1]
        return line

    def kind_line(self) -> int:
        found = _child(self.node, "kind")
        return self.offset + (found[0] if found else self.node.start_mark.line + 1)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _child(node: Any, part: Any) -> tuple[int, Any] | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == str(part):
                return key.start_mark.line + 1, value
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item = node.value[part]
        return item.start_mark.line + 1, item
    return None


@dataclass
class SyntaxProblem:
    file: str
    line: int
    message: str


def find_files(paths: list[FsPath]) -> list[FsPath]:
    """Manifest files under `paths` (explicit files always; folders recursively, without
    hidden folders and without the partial objects kustomizations list as patches)."""
    found: list[FsPath] = []
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*")
                           if p.suffix in MANIFEST_SUFFIXES and p.is_file()
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
            patches = _kustomize_patches(files)
            found.extend(p for p in files if p.resolve() not in patches)
        else:
            found.append(path)
    return found


def _kustomize_patches(files: list[FsPath]) -> set[FsPath]:
    out: set[FsPath] = set()
    for file in files:
        if file.name not in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
            continue
        try:
            data = yamlio.read(file)
        except yamlio.YamlError:
            continue  # linted (and reported) like any other file
        data = data if isinstance(data, dict) else {}
        entries = list(data.get("patchesStrategicMerge") or []) + [
            p.get("path") for p in data.get("patches") or [] if isinstance(p, dict)]
        out.update((file.parent / e).resolve() for e in entries if isinstance(e, str) and "\n" not in e)
    return out


def split_documents(text: str) -> Iterator[tuple[int, str]]:
    """(0-based first line, text) of each `---`-separated document."""
    starts = [m.start() for m in _DOC_START.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    starts.append(len(text))
    for begin, end in zip(starts, starts[1:]):
        yield text.count("\n", 0, begin), text[begin:end]


def load_text(text: str, file: str) -> tuple[list[LintObject], list[SyntaxProblem]]:
    """Parse every document of a file; syntax errors become problems, not exceptions."""
    lines = text.splitlines()
    try:  # the common case: the whole file parses in one go
        return [o for node, data in _parse(text) for o in _objects(node, data, file, lines, 0)], []
    except (yaml.YAMLError, yamlio.YamlError):
        pass
    objects: list[LintObject] = []
    problems: list[SyntaxProblem] = []
    for offset, chunk in split_documents(text):
        try:
            docs = _parse(chunk)
        except (yaml.YAMLError, yamlio.YamlError) as err:
            found = err if isinstance(err, yamlio.YamlError) else yamlio.syntax_error(err)
            problems.append(SyntaxProblem(file, offset + (found.line or 1),
                                          f"YAML syntax error: {found.detail}"))
            continue
        for node, data in docs:
            objects.extend(_objects(node, data, file, lines, offset))
    return objects, problems


def _parse(chunk: str) -> list[tuple[Any, Any]]:
    loader = _Loader(chunk)
    try:
        out = []
        while loader.check_node():
            node = loader.get_node()
            try:
                data = _build(node)
            except (_Fallback, RecursionError):
                data = loader.construct_document(node)
            out.append((node, data))
        return out
    finally:
        loader.dispose()


class _Fallback(Exception):
    """A node the fast builder leaves to PyYAML's constructor (merge keys, rare tags)."""


_STR, _INT, _BOOL, _NULL = (f"tag:yaml.org,2002:{t}" for t in ("str", "int", "bool", "null"))
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_BOOLS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def _build(node: Any) -> Any:
    """Plain Python data from a composed node, for the tags manifests use (fast path)."""
    tag = node.tag
    if tag == _STR:
        return node.value
    if tag == _MAP:
        return {_build(k): _build(v) for k, v in node.value}
    if tag == _SEQ:
        return [_build(item) for item in node.value]
    if tag == _INT and node.value.lstrip("-+").isdigit() and not node.value.lstrip("-+").startswith("0"):
        return int(node.value)
    if tag == _BOOL:
        return _BOOLS[node.value.lower()]
    if tag == _NULL:
        return None
    raise _Fallback


def _objects(node: Any, data: Any, file: str, lines: list[str], offset: int) -> list[LintObject]:
    if not isinstance(data, dict) or ("kind" not in data and "apiVersion" not in data):
        return []  # empty documents, helm values files and other non-manifests
    if data.get("kind") in NOT_OBJECTS:
        return []
    if str(data.get("kind", "")).endswith("List") and isinstance(data.get("items"), list):
        items = _child(node, "items")
        return [o for i, item in enumerate(data["items"])
                for o in _objects(items[1].value[i], item, file, lines, offset)]
    return [LintObject(data, file, node, lines, offset)]
