"""SARIF output: valid 2.1.0, real lines, relative paths, stable fingerprints, golden file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema

from stackgen.lint.engine import Options, lint_paths
from stackgen.lint.formats.sarif import render_sarif

REPO = Path(__file__).resolve().parents[3]
GOLDEN = Path(__file__).parent / "golden" / "lint-corpus.sarif"
CORPUS = REPO / "tests" / "lint_corpus"
# Built by hand from the SARIF 2.1.0 specification's required properties (see its $comment)
SARIF_2_1_0 = json.loads((Path(__file__).parent / "golden" / "sarif-2.1.0-required.schema.json").read_text())


def _sarif(paths, base: Path, crds=()) -> dict:
    return json.loads(render_sarif(lint_paths(paths, Options(crd_paths=tuple(crds)), base=base)))


def test_golden_sarif_is_valid_and_unchanged(crds) -> None:
    doc = _sarif([CORPUS], REPO, [crds])
    jsonschema.validate(doc, SARIF_2_1_0, format_checker=jsonschema.FormatChecker())
    doc["runs"][0]["tool"]["driver"]["version"] = "VERSION"  # the package version is not pinned here
    if os.environ.get("STACKGEN_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(doc, indent=2) + "\n")
    assert doc == json.loads(GOLDEN.read_text()), "run with STACKGEN_UPDATE_GOLDEN=1 after a deliberate change"


def test_results_have_real_lines_relative_paths_and_rule_help(crds) -> None:
    doc = _sarif([CORPUS], REPO, [crds])
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert all(r["help"]["text"] and r["help"]["markdown"] for r in rules)
    for result in run["results"]:
        loc = result["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"].startswith("tests/lint_corpus/")
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    lines = {r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in run["results"]}
    assert len(lines) > 5 and 1 not in lines  # not everything on line 1


def test_fingerprints_survive_unrelated_line_moves(tmp_path) -> None:
    source = (CORPUS / "vllm-docs-gpu.yaml").read_text()
    (tmp_path / "m.yaml").write_text(source)
    before = _sarif([tmp_path / "m.yaml"], tmp_path)["runs"][0]["results"]
    (tmp_path / "m.yaml").write_text("# a comment\n# and another\n" + source)
    after = _sarif([tmp_path / "m.yaml"], tmp_path)["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in before] == [r["partialFingerprints"] for r in after]
    shift = [a["locations"][0]["physicalLocation"]["region"]["startLine"]
             - b["locations"][0]["physicalLocation"]["region"]["startLine"] for a, b in zip(after, before)]
    assert set(shift) == {2}
    assert len({fp for r in before for fp in r["partialFingerprints"].values()}) == len(before)


def test_the_schema_check_can_fail(crds) -> None:
    doc = _sarif([CORPUS / "triton-legacy-hpa.yaml"], REPO, [crds])
    doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    del doc["runs"][0]["tool"]["driver"]["name"]
    errors = list(jsonschema.Draft202012Validator(SARIF_2_1_0).iter_errors(doc))
    assert len(errors) == 2
