"""stackgen's own rendered stacks lint clean; odd shapes never crash the rules."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stackgen.lint.engine import Options, active_rules, lint_object, lint_paths
from stackgen.lint.loader import load_text
from lint_testutil import doc_paths

REPO = Path(__file__).resolve().parents[3]
GOLDEN = sorted(p for p in (REPO / "tests" / "golden").glob("*") if p.is_dir())
CORPUS = REPO / "tests" / "lint_corpus"


@pytest.mark.parametrize("stack", GOLDEN, ids=[p.name for p in GOLDEN])
def test_rendered_examples_lint_clean(stack: Path, crds) -> None:
    report = lint_paths([stack], Options(crd_paths=(crds,)), base=REPO)
    assert report.objects > 0
    assert [(f.file, f.line, f.name, f.message) for f in report.findings] == []


def test_lint_reads_the_rendered_engine_settings(tmp_path: Path, crds) -> None:
    """The TP of a rendered vLLM model is in its ConfigMap (engine.yaml), not on the command
    line: raising it by hand past the pod's GPUs is an error with the Deployment's line, and
    breaking the document is an error naming the field."""
    import shutil

    from stackgen.cli.main import run

    stack = tmp_path / "llm-only"
    shutil.copytree(REPO / "tests" / "golden" / "llm-only", stack)
    config = stack / "models" / "llama-chat" / "configmap.yaml"
    config.write_text(config.read_text().replace("tensorParallelSize: 1", "tensorParallelSize: 8"))
    report = lint_paths([stack], Options(crd_paths=(crds,)), base=tmp_path)
    tp = [f for f in report.findings if f.name == "tp-exceeds-gpus"]
    assert [(f.file, f.severity) for f in tp] == [("llm-only/models/llama-chat/deployment.yaml", "error")]
    assert "TP=8" in tp[0].message and "1 GPU" in tp[0].message
    assert run(["lint", str(stack), "--crds", str(crds)]) == 1
    config.write_text(config.read_text().replace("tensorParallelSize: 8", "tensorParallelSize: none"))
    broken = lint_paths([stack], Options(crd_paths=(crds,)), base=tmp_path)
    assert [f.name for f in broken.findings] == ["engine-settings-invalid"]
    assert "tensorParallelSize" in broken.findings[0].message
    alone = lint_paths([stack / "models" / "llama-chat" / "deployment.yaml"], Options(crd_paths=(crds,)),
                       base=tmp_path)
    assert [(f.name, f.severity) for f in alone.findings] == [("engine-settings-unresolved", "info")]


OBJECTS = [o for p in sorted(CORPUS.glob("*.yaml")) for o in load_text(p.read_text(), p.name)[0]]
ODD = st.one_of(st.none(), st.booleans(), st.integers(-3, 10), st.text(max_size=4), st.just([]),
                st.just({}), st.just([None]), st.just({"a": None}), st.just("$(X)"))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_rules_survive_odd_shapes(data) -> None:
    obj = copy.copy(data.draw(st.sampled_from(OBJECTS)))
    obj.data = copy.deepcopy(obj.data)
    path = data.draw(st.sampled_from([p for p in doc_paths(obj.data) if len(p) > 1]))
    parent = obj.data
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = data.draw(ODD)
    obj.__post_init__()
    for attr in ("_pods",):
        obj.__dict__.pop(attr, None)
    # no CRDs: custom resources are not schema-checked, rules still run; debug: rules must
    # not raise even where the engine would forgive them on a schema-invalid object
    options = Options(debug=True)
    findings = lint_object(obj, active_rules(options), options)
    assert all(f.line >= 1 for f in findings)


def test_non_mapping_documents_are_skipped_or_reported() -> None:
    objects, problems = load_text("- a\n- b\n---\njust text\n---\n\n---\nkind: List\napiVersion: v1\nitems: []\n", "x.yaml")
    assert objects == [] and problems == []
