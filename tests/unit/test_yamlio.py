"""stackgen.yamlio: hostile files and documents are refused fast with a line; the dumpers'
bytes are what render and init have always written."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from stackgen import yamlio
from stackgen.errors import InputError
from stackgen.lint.loader import load_text
from stackgen.render.writer import HEADER, to_yaml
from stackgen.spec import load_stack


def billion_laughs() -> str:
    """The classic: 9 levels of 9 aliases each, 9**9 (~387 million) strings expanded."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("parse", [yamlio.load, yamlio.load_all, yamlio.load_roundtrip],
                         ids=["load", "load_all", "load_roundtrip"])
def test_billion_laughs_is_refused_fast_with_a_line(parse) -> None:
    start = time.perf_counter()
    with pytest.raises(yamlio.YamlError) as err:
        parse(billion_laughs())
    assert time.perf_counter() - start < 2
    assert "alias" in err.value.message and f"{yamlio.MAX_ALIAS_NODES:,}" in err.value.message
    assert err.value.line is not None and 2 <= err.value.line <= 9  # one of the anchored levels


def test_billion_laughs_in_a_manifest_is_a_finding_and_the_other_documents_are_linted() -> None:
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\n"
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n"
            + "".join("  " + line + "\n" for line in billion_laughs().splitlines()))
    objects, problems = load_text(text, "bomb.yaml")
    assert [o.ref.name for o in objects] == ["ok"]
    assert len(problems) == 1 and "alias" in problems[0].message
    assert 10 <= problems[0].line <= 17  # the bomb's lines in the file, not in its document


def test_a_recursive_document_is_refused_with_its_line() -> None:
    for parse in (yamlio.load, yamlio.load_roundtrip):
        with pytest.raises(yamlio.YamlError) as err:
            parse("ok: 1\nloop: &a [1, *a]\n")
        assert err.value.line == 2 and "contains it" in err.value.message


def test_ordinary_aliases_and_merge_keys_still_load() -> None:
    text = "base: &b {cpu: '1', memory: 1Gi}\nsmall: *b\nbig: {<<: *b, memory: 8Gi}\n"
    data = yamlio.load(text)
    assert data["small"] == {"cpu": "1", "memory": "1Gi"} and data["big"]["memory"] == "8Gi"
    assert yamlio.load_roundtrip(text)["big"]["cpu"] == "1"


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "stackgen.yaml"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []
    worker = threading.Thread(target=lambda: _capture(outcome, yamlio.read, fifo), daemon=True)
    worker.start()
    worker.join(timeout=5)
    if worker.is_alive():  # blocked in open(): let it go, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("reading a FIFO blocked")
    assert isinstance(outcome[0], yamlio.YamlError) and "not a regular file" in outcome[0].message
    assert outcome[0].file == str(fifo)


def _capture(outcome: list, read, path: Path) -> None:
    try:
        read(path)
    except BaseException as err:  # noqa: BLE001 - the test inspects what was raised
        outcome.append(err)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero on this platform")
def test_dev_zero_and_folders_are_refused(tmp_path: Path) -> None:
    for path in ("/dev/zero", tmp_path):
        with pytest.raises(yamlio.YamlError, match="not a regular file"):
            yamlio.read_text(path)


def test_a_file_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:  # sparse: 1 byte over the default limit, nothing written
        handle.truncate(yamlio.MAX_BYTES + 1)
    with pytest.raises(yamlio.YamlError, match="larger than 16 MiB") as err:
        yamlio.read(big)
    assert err.value.file == str(big)
    small = tmp_path / "small.yaml"
    small.write_text("a: 1\n" * 10)
    with pytest.raises(yamlio.YamlError, match="larger than 20 bytes"):
        yamlio.read(small, max_bytes=20)
    assert yamlio.read(small, max_bytes=50) == {"a": 1}


def test_bad_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"a: 1\nb: \xff\n")
    with pytest.raises(yamlio.YamlError, match="not UTF-8") as err:
        yamlio.read_all(path)
    assert err.value.line == 2


def test_duplicate_keys_in_the_stack_file_are_an_error_with_the_line(tmp_path: Path) -> None:
    with pytest.raises(yamlio.YamlError, match="duplicate key") as err:
        yamlio.load_roundtrip("apiVersion: x\nkind: Stack\nmetadata: {name: a}\nkind: Stack\n")
    assert err.value.line == 4
    stack = tmp_path / "stackgen.yaml"
    stack.write_text("apiVersion: stackgen.dev/v1alpha1\nkind: Stack\nmetadata:\n  name: a\n"
                     "  name: b\nspec: {}\n")
    with pytest.raises(InputError) as found:
        load_stack(stack)
    assert found.value.line == 5 and "duplicate key" in found.value.message


def test_syntax_errors_carry_their_line_and_convert_to_input_errors() -> None:
    with pytest.raises(yamlio.YamlError) as err:
        yamlio.load("a: 1\nb: [1, 2\nc: 3\n")
    assert err.value.line is not None and err.value.line >= 2
    converted = err.value.input_error(fix="fix the YAML", file="f.yaml")
    assert isinstance(converted, InputError) and converted.line == err.value.line
    assert converted.render().startswith(f"error: f.yaml:{err.value.line}: invalid YAML")
    with pytest.raises(yamlio.YamlError, match="single document"):
        yamlio.load("a: 1\n---\nb: 2\n")


def test_profile_floats_are_numbers_but_manifests_keep_yaml_1_1(tmp_path: Path) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text("params: 8.0e9\nsmall: 1e-3\nname: 1e3x\n")
    assert yamlio.read_data(path) == {"params": 8.0e9, "small": 0.001, "name": "1e3x"}
    assert yamlio.read(path)["params"] == "8.0e9"  # as PyYAML (and the lint schemas) read it


SAMPLE = {
    "kind": "ConfigMap", "apiVersion": "v1",
    "metadata": {"name": "chat", "labels": {"b": "yes", "a": "1.0"}},
    "data": {"long": " ".join(["word"] * 30), "multi": "one\ntwo\n", "unicode": "é中 ✓", "empty": ""},
    "spec": {"replicas": 2, "ratio": 0.9, "on": True, "none": None, "args": ["--port", "8000", 8000],
             "list": [{"name": "b", "v": []}, {"name": "a", "v": {}}]},
}
EXPECTED = (  # render's bytes (tests/golden depend on them): sequences indented under their key
    "apiVersion: v1\n"
    "data:\n"
    "  empty: ''\n"
    "  long: " + " ".join(["word"] * 30) + "\n"
    "  multi: 'one\n"
    "\n"
    "    two\n"
    "\n"
    "    '\n"
    "  unicode: é中 ✓\n"
    "kind: ConfigMap\n"
    "metadata:\n"
    "  labels:\n"
    "    a: '1.0'\n"
    "    b: 'yes'\n"
    "  name: chat\n"
    "spec:\n"
    "  args:\n"
    "    - --port\n"
    "    - '8000'\n"
    "    - 8000\n"
    "  list:\n"
    "    - name: b\n"
    "      v: []\n"
    "    - name: a\n"
    "      v: {}\n"
    "  none: null\n"
    "  'on': true\n"
    "  ratio: 0.9\n"
    "  replicas: 2\n"
)


def test_dump_bytes_are_unchanged() -> None:
    assert yamlio.dump(SAMPLE) == EXPECTED
    assert to_yaml(SAMPLE) == HEADER + "---\n" + EXPECTED
    assert yamlio.load(EXPECTED) == SAMPLE


def test_roundtrip_dump_keeps_comments_and_init_layout() -> None:
    doc = yamlio.fresh_document({"metadata": {"name": "x"},
                                 "spec": {"models": [{"name": "chat", "kind": "llm"}]}}, "Made by init")
    assert yamlio.dump_roundtrip(doc) == (
        "# Made by init\nmetadata:\n  name: x\nspec:\n  models:\n    - name: chat\n      kind: llm\n")
    old = yamlio.load_roundtrip("# top\nspec:\n  models:\n    - name: chat   # keep me\n      kind: llm\n")
    new = {"spec": {"models": [{"name": "chat", "kind": "embedding"}, {"name": "new", "kind": "llm"}]}}
    assert yamlio.dump_roundtrip(yamlio.update_in_place(old, new)) == (
        "# top\nspec:\n  models:\n    - name: chat   # keep me\n      kind: embedding\n"
        "    - name: new\n      kind: llm\n")


# --- dump: sequences indented under their key (yamllint's default) -------------------------

import yaml  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _pure(obj) -> str:
    return yaml.dump(obj, Dumper=yamlio._IndentedDumper, **yamlio._DUMP_ARGS)


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                     st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
                             max_size=20),
                     st.sampled_from(["- x", "a: b", "multi\nline: x\n\n- y", " lead", "#c",
                                      "'q'", '"d"', "", "{x}", "[1]", "?", "a\tb"]))
_KEYS = st.one_of(st.text(max_size=8), st.sampled_from(["- k", "k: v", "x\ny"]))
_TREES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=4)), max_leaves=25)
# render dumps one mapping per file (a bare top-level scalar ends in `...` with either emitter)
_DOCS = st.dictionaries(_KEYS, _TREES, min_size=1, max_size=4)


@settings(max_examples=int(os.environ.get("STACKGEN_FUZZ_EXAMPLES", "400")), deadline=None)
@given(_DOCS)
def test_reindented_dump_only_moves_lines_right_and_loads_back(obj) -> None:
    """Hostile keys and values (dashes, colons, newlines, quotes): the re-indented text is
    libyaml's, line for line, with leading spaces added only, and still means `obj`."""
    text = yamlio.dump(obj)
    assert yaml.safe_load(text) == obj
    c_text = yaml.dump(obj, Dumper=yamlio._CDumper, **yamlio._DUMP_ARGS)
    assert [line.lstrip(" ") for line in text.split("\n")] == \
        [line.lstrip(" ") for line in c_text.split("\n")]
    _assert_sequences_indented(text, "generated")


def _assert_sequences_indented(text: str, where: str) -> None:
    """yamllint's default: a block sequence under a key is indented past the key."""
    lines = text.splitlines()
    for before, line in zip(lines, lines[1:]):
        if before.rstrip().endswith(":") and line.lstrip().startswith("- ") and \
                not before.lstrip().startswith(("'", '"')):
            stripped = before.lstrip()
            key_col = len(before) - len(stripped) + (2 if stripped.startswith("- ") else 0)
            assert len(line) - len(line.lstrip()) > key_col, (where, before, line)


def test_every_rendered_object_dumps_as_the_pure_emitter_with_sequences_indented() -> None:
    from stackgen.catalog import stack_facts
    from stackgen.decide import decide
    from stackgen.render.build import build

    root = Path(__file__).resolve().parents[2] / "examples"
    for example in ("llm-only", "hybrid", "platform"):
        stack = load_stack(root / example / "stackgen.yaml")
        for item in build(stack, decide(stack, stack_facts(stack, root / example))):
            text = yamlio.dump(item.obj)
            assert text == _pure(item.obj), item.path
            _assert_sequences_indented(text, item.path)
