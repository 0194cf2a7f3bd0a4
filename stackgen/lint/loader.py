"""Read manifest files into objects that remember where each field is.

PyYAML's libyaml composer (stackgen.yamlio.FastLoader, which also bounds alias expansion)
gives every node its 1-based line at C speed (ruamel's round-trip loader gives the same
lines ~10x slower, and this is the hot path). A file that does not parse in one go is split
into documents, so a syntax error in one document is reported with its line while the
other documents are still linted.
"""

from __future__ import annotations

import gc
import operator
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any, Iterator

import yaml

from stackgen import yamlio
from stackgen.lint.model import ObjectRef, Path

_STR, _INT, _BOOL, _NULL = (f"tag:yaml.org,2002:{t}" for t in ("str", "int", "bool", "null"))
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_TAGS: dict[str, str] = {}  # plain scalar -> its resolved tag (manifests repeat their words)
_TAGS_MAX = 50_000


class _Loader(yamlio.FastLoader):  # type: ignore[misc, valid-type]
    """libyaml's composer (pure PyYAML without it), aliases bounded, with the two callbacks
    it makes for every node made cheap: tag resolution is memoised per plain scalar (the
    result depends on the text alone: this loader has no path resolvers), and the path
    resolver hooks, no-ops here, are C builtins instead of Python methods."""

    def __init__(self, stream: str | bytes) -> None:
        super().__init__(stream)
        if not self.yaml_path_resolvers:
            self.descend_resolver = operator.is_  # any cheap C callable of (parent, index)
            self.ascend_resolver = tuple  # ... and of ()

    def resolve(self, kind: Any, value: Any, implicit: Any, _scalar: Any = yaml.ScalarNode,
                _mapping: Any = yaml.MappingNode, _known: Any = _TAGS.get) -> str:
        if kind is not _scalar:
            return _MAP if kind is _mapping else _SEQ
        if not implicit[0]:
            return _STR  # quoted (or explicitly non-plain): always a string
        tag = _known(value)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(_TAGS) < _TAGS_MAX:
                _TAGS[value] = tag
        return tag

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
            files = sorted(FsPath(f) for f in _walk(str(path)))
            patches = _kustomize_patches(files)
            found.extend(p for p in files if not patches or p.resolve() not in patches)
        else:
            found.append(path)
    return found


def _walk(folder: str) -> Iterator[str]:
    """Manifest files under `folder`, without hidden files and folders; like Path.rglob,
    symlinks to files are listed and symlinks to folders are not entered (one scandir per
    folder: no stat per file)."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(entry.path)
            elif os.path.splitext(entry.name)[1] in MANIFEST_SUFFIXES and entry.is_file():
                yield entry.path


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


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector off for one file's work. Parsing allocates a node and a
    value per scalar, none in a cycle, and the collector's passes over them (and over the
    compiled schemas, which live as long as the process) took a third of the parse time;
    refcounting frees them all the same, and the cycles the rules make (a LintObject and
    its cached pod templates) are collected as soon as the collector runs again."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def load_text(text: str, file: str) -> tuple[list[LintObject], list[SyntaxProblem]]:
    """Parse every document of a file; syntax errors become problems, not exceptions."""
    with paused_gc():
        return _load_text(text, file)


def _load_text(text: str, file: str) -> tuple[list[LintObject], list[SyntaxProblem]]:
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
                try:
                    data = _build(node)
                except (_Fallback, RecursionError):
                    data = loader.construct_document(node)
            except TypeError:  # a mapping or list as a key: `name: {{ .Values.x }}` parses so
                detail = ("a mapping used as a key: an unrendered template (`{{ ... }}`)? Lint "
                          "what `helm template` or `kustomize build` writes")
                raise yamlio.YamlError(f"invalid YAML: {detail}", _key_line(node),
                                       detail=detail) from None
            out.append((node, data))
        return out
    finally:
        loader.dispose()


def _key_line(node: Any) -> int:
    """1-based line of the first mapping key that is itself a collection."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                if isinstance(key, (yaml.MappingNode, yaml.SequenceNode)):
                    return key.start_mark.line + 1
                stack.append(value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return node.start_mark.line + 1


class _Fallback(Exception):
    """A node the fast builder leaves to PyYAML's constructor (merge keys, rare tags)."""


_BOOLS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def _build(node: Any) -> Any:
    """Plain Python data from a composed node, for the tags manifests use (fast path; keys
    and values that are plain strings, most of a manifest, are read without a call)."""
    tag = node.tag
    if tag == _MAP:
        out = {}
        for k, v in node.value:
            out[k.value if k.tag == _STR else _build(k)] = v.value if v.tag == _STR else _build(v)
        return out
    if tag == _STR:
        return node.value
    if tag == _SEQ:
        return [item.value if item.tag == _STR else _build(item) for item in node.value]
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
    kind = data.get("kind")
    if isinstance(kind, str) and kind in NOT_OBJECTS:  # a hostile `kind: []` is not hashable
        return []
    if str(data.get("kind", "")).endswith("List") and isinstance(data.get("items"), list):
        items = _child(node, "items")
        return [o for i, item in enumerate(data["items"])
                for o in _objects(items[1].value[i], item, file, lines, offset)]
    return [LintObject(data, file, node, lines, offset)]
