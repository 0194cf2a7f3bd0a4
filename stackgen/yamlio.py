"""All of stackgen's YAML reading and writing, and the one error type it raises.

- Fast safe loading (libyaml's C parser when PyYAML has it, PyYAML's pure one otherwise;
  YAML 1.1 types, as Kubernetes tools read manifests): `load`, `load_all`, `FastLoader`
  (for callers that walk the composed nodes, such as lint's line-number builder).
- Files: `read_bytes` / `read_text` refuse what is not a regular file (a FIFO, /dev/zero)
  and what is over `max_bytes` before reading; `read`, `read_all`, `read_data` parse them.
- Alias bombs: a document whose aliases would expand it by more than `MAX_ALIAS_NODES`
  nodes, or that contains itself, is refused while composing, with the anchor's line.
- Round trip (ruamel.yaml, comments and line numbers kept, duplicate keys refused) for the
  stack file and init's answers: `load_roundtrip`, `dump_roundtrip`, `fresh_document`,
  `update_in_place`.
- `dump`: the deterministic block-style, key-sorted text render writes (byte-stable).

Every problem is a `YamlError` (message, 1-based line or None, file); callers turn it
into an InputError (`err.input_error(fix=...)`) or a lint finding.
"""

from __future__ import annotations

import io
import os
import re
import stat
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from stackgen.errors import InputError

MAX_BYTES = 16 * 1024 * 1024
MAX_ALIAS_NODES = 200_000  # nodes aliases may add beyond those written out in the text

_CBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~20x faster than pure Python
_CDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class YamlError(Exception):
    """Bad YAML input: `message` says what; `line`, `column` (1-based, or None) and `file` where."""

    def __init__(self, message: str, line: int | None = None, *, file: str | None = None,
                 detail: str | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.file = file
        self.detail = detail or message  # the parser's words, without "invalid YAML: "

    def input_error(self, fix: str, *, field: str | None = None, file: str | None = None) -> InputError:
        from stackgen.errors import InputError

        return InputError(self.message, file=file or self.file, line=self.line, field=field, fix=fix)


# --- files -------------------------------------------------------------------------------

def read_bytes(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES) -> bytes:
    """The file's bytes; a YamlError for a missing, unreadable, non-regular or too-large file.

    The file is opened non-blocking (a FIFO's open never waits for a writer) and checked
    with fstat before anything is read; at most max_bytes + 1 bytes are ever read.
    """
    name = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) \
        | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(name, flags)
    except OSError as err:
        raise YamlError(f"cannot read file: {err.strerror}", file=name) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise YamlError("not a regular file (a folder, FIFO or device is never read)", file=name)
        if info.st_size > max_bytes:
            raise YamlError(f"file is larger than {_size(max_bytes)} ({_size(info.st_size)})", file=name)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(max_bytes + 1)
    except OSError as err:
        raise YamlError(f"cannot read file: {err.strerror}", file=name) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise YamlError(f"file is larger than {_size(max_bytes)} (it grew while read)", file=name)
    return data


def read_text(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES) -> str:
    """`read_bytes` decoded as UTF-8 (a leading BOM dropped); bad bytes are a YamlError with their line."""
    data = read_bytes(path, max_bytes=max_bytes)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise YamlError(f"not UTF-8 text ({err.reason})", line, file=os.fspath(path)) from None


def _size(n: int) -> str:
    return f"{n / 2**20:.0f} MiB" if n >= 2**20 else f"{n:,} bytes"


def read(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES) -> Any:
    """One document of a file, fast safe loader."""
    return _with_file(path, lambda: load(read_text(path, max_bytes=max_bytes)))


def read_all(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES) -> list[Any]:
    """Every document of a file, fast safe loader."""
    return _with_file(path, lambda: load_all(read_text(path, max_bytes=max_bytes)))


def read_data(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES) -> Any:
    """A profile or case file of stackgen's own: one document, fast safe loader, and
    YAML 1.2 / JSON floats (`8.0e9`, `1e3` are numbers, as ruamel read them)."""
    return _with_file(path, lambda: load(read_text(path, max_bytes=max_bytes), loader=DataLoader))


def _with_file(path: str | os.PathLike[str], parse: Any) -> Any:
    try:
        return parse()
    except YamlError as err:
        err.file = err.file or os.fspath(path)
        raise


# --- fast safe loading ---------------------------------------------------------------------

class FastLoader(_CBase):  # type: ignore[misc, valid-type]
    """PyYAML's safe loader (libyaml when present) that bounds alias expansion per document."""

    max_alias_nodes = MAX_ALIAS_NODES

    def __init__(self, stream: str | bytes) -> None:
        super().__init__(stream)
        if (b"&" if isinstance(stream, bytes) else "&") not in stream:
            # no `&` means no anchors, so no aliases: the hot path calls the parser's own methods
            self.get_node = super().get_node
            self.get_single_node = super().get_single_node

    def get_node(self) -> Any:
        return self._bounded(super().get_node())

    def get_single_node(self) -> Any:
        return self._bounded(super().get_single_node())

    def _bounded(self, node: Any) -> Any:
        if node is not None:
            check_aliases(node, self.max_alias_nodes)
        return node

    def dispose(self) -> None:
        self.__dict__.clear()  # the bound methods above would keep the parser alive in a cycle
        super().dispose()


class DataLoader(FastLoader):
    """FastLoader with YAML 1.2 core-schema floats (exponent sign and fraction optional)."""


DataLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$"),
    list("-+0123456789."))


def load(text: str | bytes, *, loader: type = FastLoader) -> Any:
    """One YAML document as plain Python data (None for an empty text)."""
    parser = loader(text)
    try:
        return _parsing(parser.get_single_data)
    finally:
        parser.dispose()


def load_all(text: str | bytes, *, loader: type = FastLoader) -> list[Any]:
    """Every document of a YAML stream as plain Python data (empty documents as None)."""
    parser = loader(text)

    def documents() -> list[Any]:
        out = []
        while parser.check_node():
            out.append(parser.construct_document(parser.get_node()))
        return out

    try:
        return _parsing(documents)
    finally:
        parser.dispose()


def _parsing(parse: Any) -> Any:
    try:
        return parse()
    except yaml.YAMLError as err:
        raise syntax_error(err) from None
    except RecursionError:
        raise YamlError("invalid YAML: nested too deeply", None, detail="nested too deeply") from None


def syntax_error(err: Exception) -> YamlError:
    """A PyYAML or ruamel.yaml parse error as a YamlError with the line it points at."""
    problem = getattr(err, "problem", None)
    context = getattr(err, "context", None)
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    if "end of stream" in str(problem or "") and getattr(err, "context_mark", None):
        mark = err.context_mark  # type: ignore[attr-defined]  # an unclosed quote: where it opens
    detail = " ".join(str(p) for p in (context, problem) if p) or (str(err).splitlines() or ["?"])[0]
    return YamlError(f"invalid YAML: {detail}", mark.line + 1 if mark else None, detail=detail,
                     column=mark.column + 1 if mark else None)


def check_aliases(root: Any, limit: int = MAX_ALIAS_NODES) -> None:
    """Refuse a composed document (PyYAML or ruamel nodes) that contains itself or whose
    aliases add more than `limit` nodes. One pass over the distinct nodes, no recursion."""
    sizes: dict[int, int] = {}  # id(node) -> nodes in its expansion
    open_nodes: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        kids = _children(node)
        if done:
            open_nodes.discard(key)
            sizes[key] = size = 1 + sum(sizes[id(k)] for k in kids)
            if size - len(sizes) > limit:
                raise _alias_error(node, f"aliases expand the document by more than {limit:,} nodes "
                                         "(an alias bomb?); write the repeated parts out")
            continue
        if key in sizes:
            continue
        open_nodes.add(key)
        stack.append((node, True))
        for kid in kids:
            if id(kid) in open_nodes:
                raise _alias_error(kid, "an alias refers to a node that contains it (a recursive document)")
            if id(kid) not in sizes:
                stack.append((kid, False))


def _children(node: Any) -> list[Any]:
    value = node.value
    if not isinstance(value, list):
        return []
    if value and isinstance(value[0], tuple):
        return [part for pair in value for part in pair]
    return value


def _alias_error(node: Any, detail: str) -> YamlError:
    mark = node.start_mark
    return YamlError(f"invalid YAML: {detail}", mark.line + 1, detail=detail, column=mark.column + 1)


# --- deterministic dump (render) -----------------------------------------------------------

class _IndentedDumper(yaml.SafeDumper):
    """PyYAML's pure emitter with sequences indented under their key (the slow path)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


_DUMP_ARGS: dict[str, Any] = {"default_flow_style": False, "sort_keys": True,
                              "allow_unicode": True, "width": 4096}


def dump(obj: Any) -> str:
    """Block-style YAML with sorted keys (as kubectl prints), unicode kept, lines unwrapped,
    and block sequences indented under their key, as yamllint's default `indentation` rule
    (`indent-sequences: true`) expects. Rendered files and their golden copies depend on
    these exact bytes.

    libyaml's emitter writes a mapping's sequences indentless and cannot be told otherwise;
    PyYAML's pure emitter can, but is ~6x slower (3 ms per object: 3 s on a 200-model
    stack). So the C output is re-indented from the positions libyaml's composer reports
    (tests/unit/test_yamlio.py checks that this is byte-identical to the pure emitter's text
    on every rendered object, and on generated hostile ones that it only moves lines right
    and still loads back to `obj`)."""
    text = yaml.dump(obj, Dumper=_CDumper, **_DUMP_ARGS)
    indented = _indent_sequences(text)
    if indented is None:  # libyaml could not read its own output back: never seen
        return yaml.dump(obj, Dumper=_IndentedDumper, **_DUMP_ARGS)
    return indented


def _indent_sequences(text: str) -> str | None:
    """`text` with every block sequence that is a mapping's value moved two columns right,
    its items and everything nested in them (continuation lines of quoted scalars too,
    whose leading spaces YAML folds away); None when the text does not compose."""
    try:
        root = yaml.compose(text, Loader=_CBase)
    except yaml.YAMLError:
        return None
    lines = text.split("\n")
    shift = [0] * (len(lines) + 1)  # difference array over line numbers
    stack: list[tuple[Any, bool]] = [(root, False)] if root is not None else []
    while stack:
        node, mapping_value = stack.pop()
        if isinstance(node, yaml.MappingNode):
            stack.extend((value, True) for _, value in node.value)
        elif isinstance(node, yaml.SequenceNode):
            start, col = node.start_mark.line, node.start_mark.column
            # indentless: a mapping's block sequence whose first "-" begins its own line
            # (not one after a complex key's "? " / ": " indicator)
            if mapping_value and not node.flow_style and node.value and \
                    not lines[start][:col].strip():
                end = node.end_mark.line
                shift[start] += 2
                shift[min(end, len(lines))] -= 2
            stack.extend((item, False) for item in node.value)
    out, current = [], 0
    for number, line in enumerate(lines):
        current += shift[number]
        out.append(" " * current + line if current and line.strip() else line)
    return "\n".join(out)


# --- round trip (ruamel.yaml): the stack file and init's answers -------------------------------

def _roundtrip() -> Any:
    from ruamel.yaml import YAML

    rt = YAML(typ="rt")
    rt.allow_duplicate_keys = False
    return rt


def load_roundtrip(text: str, *, max_alias_nodes: int = MAX_ALIAS_NODES) -> Any:
    """One document as ruamel CommentedMap/Seq: comments kept, `.lc` holds each key's line;
    duplicate keys, syntax errors and alias bombs are YamlErrors with their line."""
    from ruamel.yaml.error import YAMLError as RuamelError

    try:
        if "&" in text:  # anchors: bound the expansion on the composed nodes first
            node = _roundtrip().compose(text)
            if node is not None:
                check_aliases(node, max_alias_nodes)
        return _roundtrip().load(text)
    except RuamelError as err:
        raise syntax_error(err) from None
    except RecursionError:
        raise YamlError("invalid YAML: nested too deeply", None, detail="nested too deeply") from None


def read_roundtrip(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES) -> Any:
    """`load_roundtrip` of a file read with `read_text`'s checks."""
    return _with_file(path, lambda: load_roundtrip(read_text(path, max_bytes=max_bytes)))


def dump_roundtrip(data: Any) -> str:
    """ruamel round-trip text (comments kept; mapping indent 2, list items indented 2)."""
    buf = io.StringIO()
    rt = _roundtrip()
    rt.indent(mapping=2, sequence=4, offset=2)
    rt.width = 4096
    rt.dump(data, buf)
    return buf.getvalue()


def fresh_document(data: dict, header: str) -> Any:
    """A new round-trip document for `data`, with `header` as its leading comment."""
    doc = _commented(data)
    doc.yaml_set_start_comment(header)
    return doc


def update_in_place(existing: Any, new: Any) -> Any:
    """Return `existing` updated to equal `new` in value, keeping comments where keys stay.

    Mappings update key by key (keys absent from `new` are kept: they are settings the
    questionnaire does not ask about); lists of named mappings match entries by name
    (entries no longer named are dropped); anything else is replaced.
    """
    if isinstance(existing, dict) and isinstance(new, dict):
        for key, value in new.items():
            existing[key] = update_in_place(existing[key], value) if key in existing else _commented(value)
        return existing
    if isinstance(existing, list) and isinstance(new, list) and _named(existing) and _named(new):
        by_name = {item["name"]: item for item in existing}
        existing[:] = [update_in_place(by_name[i["name"]], i) if i["name"] in by_name else _commented(i)
                       for i in new]
        return existing
    return _commented(new)


def _named(items: list) -> bool:
    return all(isinstance(i, dict) and "name" in i for i in items)


def _commented(value: Any) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, dict) and not isinstance(value, CommentedMap):
        out = CommentedMap()
        for key, item in value.items():
            out[key] = _commented(item)
        return out
    if isinstance(value, list) and not isinstance(value, CommentedSeq):
        return CommentedSeq([_commented(v) for v in value])
    return value


__all__ = ["MAX_ALIAS_NODES", "MAX_BYTES", "DataLoader", "FastLoader", "YamlError",
           "check_aliases", "dump", "dump_roundtrip", "fresh_document", "load", "load_all",
           "load_roundtrip", "read", "read_all", "read_bytes", "read_data", "read_roundtrip",
           "read_text", "syntax_error", "update_in_place"]
