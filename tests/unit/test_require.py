"""tests/_require.py: a missing part skips on a developer's machine and fails under CI's
flags, so a CI run can never pass by skipping what it is meant to test."""

from __future__ import annotations

import re
from pathlib import Path

import _require
import pytest
from _require import FLAGS, flag_set, installed, require, require_crds

ROOT = Path(__file__).resolve().parents[2]


def test_missing_part_skips_without_the_flag(monkeypatch):
    monkeypatch.delenv("STACKGEN_REQUIRE_CRDS", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"no CRDs: get them \(with STACKGEN_REQUIRE_CRDS=1"):
        require(False, "no CRDs", flag="STACKGEN_REQUIRE_CRDS", fix="get them")


@pytest.mark.parametrize("value", ["1", "yes", "true"])
def test_missing_part_fails_under_the_flag_with_the_fix(monkeypatch, value):
    monkeypatch.setenv("STACKGEN_REQUIRE_CRDS", value)
    with pytest.raises(pytest.fail.Exception, match="no CRDs, and STACKGEN_REQUIRE_CRDS is set.*: get them"):
        require(False, "no CRDs", flag="STACKGEN_REQUIRE_CRDS", fix="get them")


@pytest.mark.parametrize("value", ["", "0", "false", "no"])
def test_zero_or_empty_turns_the_flag_off(monkeypatch, value):
    monkeypatch.setenv("STACKGEN_REQUIRE_RUNTIME", value)
    assert not flag_set("STACKGEN_REQUIRE_RUNTIME")


def test_crds_missing_under_ci_flags_fails_naming_the_folder(monkeypatch, tmp_path):
    monkeypatch.setattr(_require, "CRDS", tmp_path / "shared" / "crds")
    monkeypatch.setenv("STACKGEN_REQUIRE_CRDS", "1")
    with pytest.raises(pytest.fail.Exception, match=f"not in {tmp_path / 'shared' / 'crds'}"):
        require_crds()
    (tmp_path / "shared" / "crds").mkdir(parents=True)  # an empty folder is missing CRDs too
    with pytest.raises(pytest.fail.Exception):
        require_crds()


def test_a_present_part_neither_skips_nor_fails(monkeypatch):
    monkeypatch.setenv("STACKGEN_REQUIRE_CRDS", "1")
    assert require(True, "no CRDs", flag="STACKGEN_REQUIRE_CRDS", fix="get them") is None


def test_an_unknown_flag_is_a_bug_in_the_test():
    with pytest.raises(ValueError, match="STACKGEN_REQUIRE_GPU"):
        require(True, "x", flag="STACKGEN_REQUIRE_GPU", fix="y")


def test_a_dev_dependency_is_never_a_skip():
    assert Path(installed("hadolint")).is_file()
    with pytest.raises(pytest.fail.Exception, match="make venv"):
        installed("no-such-tool-stackgen")


def test_ci_sets_every_flag():
    """.ci/run exports each flag _require knows, so CI never skips for it."""
    ci = (ROOT / ".ci" / "run").read_text()
    exported = set(re.findall(r"\b(STACKGEN_REQUIRE_[A-Z]+)=1\b", ci))
    assert exported == set(FLAGS), exported ^ set(FLAGS)


#: a skip for the operating system (CI runs Linux, so it never skips there) is allowed
PLATFORM_SKIP = re.compile(r"skipif\(\s*(not )?(sys\.platform|os\.path\.exists\(\"/dev/)")
SKIP = re.compile(r"pytest\.skip\(|mark\.skipif|importorskip|mark\.skip\b")


def test_no_test_skips_outside_the_helper():
    """Every skip goes through tests/_require.py (tests/cluster keeps its own, with the same
    flag); a bare pytest.skip or skipif elsewhere would be a silent CI hole."""
    offenders = []
    for path in (ROOT / "tests").rglob("*.py"):
        rel = path.relative_to(ROOT / "tests")
        if rel.parts[0] == "cluster" or path.name == "_require.py" or path == Path(__file__):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if SKIP.search(line) and not PLATFORM_SKIP.search(line):
                offenders.append(f"tests/{rel}:{number}: {line.strip()}")
    assert offenders == []
