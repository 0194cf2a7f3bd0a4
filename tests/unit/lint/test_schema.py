"""The compiled validators agree with jsonschema on kubernetes-validate's schemas; CRDs are
converted strictly (unknown nested fields fail, preserve-unknown-fields and int-or-string work)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from referencing import Registry, Resource

from stackgen.lint.schema.builtin import _schema_root, builtin_schemas, bundled_versions
from stackgen.lint.schema.crd import load_crds, to_json_schema
from lint_testutil import doc_paths

REPO = Path(__file__).resolve().parents[3]
VERSION = bundled_versions()[-1]
DEPLOYMENT = yaml.safe_load_all((REPO / "tests/lint_corpus/production-stack.yaml").read_text())
DEPLOYMENT = [d for d in DEPLOYMENT if d["kind"] == "Deployment"][1]


def _reference_validator(name: str) -> jsonschema.Validator:
    folder = _schema_root() / f"v{VERSION}.0-local-strict"
    schema = json.loads((folder / name).read_text())
    defs = json.loads((folder / "_definitions.json").read_text())
    registry = Resource.from_contents(defs) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


REFERENCE = _reference_validator("deployment-apps-v1.json")
OURS = builtin_schemas(VERSION).validator("apps/v1", "Deployment")


PATHS = [p for p in doc_paths(DEPLOYMENT) if p]
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.text(max_size=5),
                   st.just([]), st.just({}), st.just({"unknownField": 1}), st.just([1, "a"]))


def _ours_fails(doc) -> bool:
    errors: list = []
    OURS(doc, (), errors)
    return bool(errors)


def test_valid_deployment_agrees() -> None:
    assert not _ours_fails(DEPLOYMENT) and REFERENCE.is_valid(DEPLOYMENT)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), value=VALUES, add=st.booleans())
def test_mutations_get_the_same_verdict_as_jsonschema(path, value, add) -> None:
    doc = copy.deepcopy(DEPLOYMENT)
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    if add and isinstance(parent, dict):
        parent["x" + str(path[-1])] = value  # a new, probably unknown, key
    else:
        parent[path[-1]] = value
    assert _ours_fails(doc) == (not REFERENCE.is_valid(doc))


def test_errors_point_at_the_field() -> None:
    doc = copy.deepcopy(DEPLOYMENT)
    doc["spec"]["template"]["spec"]["containers"][0]["resource"] = {}
    doc["spec"]["replicas"] = "2"
    errors: list = []
    OURS(doc, (), errors)
    assert sorted(p for p, _ in errors) == [
        ("spec", "replicas"), ("spec", "template", "spec", "containers", 0, "resource")]


def test_crd_conversion_is_strict_but_respects_extensions() -> None:
    schema = to_json_schema({"type": "object", "properties": {
        "spec": {"type": "object", "properties": {
            "port": {"x-kubernetes-int-or-string": True},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                     "properties": {"a": {"type": "string"}}},
            "opt": {"type": "string", "nullable": True}}}}})
    check = jsonschema.Draft202012Validator(schema)
    assert check.is_valid({"spec": {"port": 80, "free": {"b": 1}, "opt": None}})
    assert check.is_valid({"spec": {"port": "http"}})
    assert not check.is_valid({"spec": {"port": 1.5}})
    assert not check.is_valid({"spec": {"typo": 1}})
    assert not check.is_valid({"spec": {"free": {"a": 1}}})


def test_real_crds_catch_nested_typos(crds) -> None:
    schemas = load_crds([crds])
    check = schemas.validator("serving.kserve.io/v1beta1", "InferenceService")
    good = {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
            "metadata": {"name": "m"},
            "spec": {"predictor": {"model": {"modelFormat": {"name": "huggingface"},
                                             "resources": {"limits": {"nvidia.com/gpu": "1"}}}}}}
    errors: list = []
    check(good, (), errors)
    assert errors == []
    bad = copy.deepcopy(good)
    bad["spec"]["predictor"]["model"]["modelFormat"]["nmae"] = "x"
    check(bad, (), errors)
    assert [p for p, _ in errors] == [("spec", "predictor", "model", "modelFormat", "nmae")]


def test_bad_crd_path_is_an_input_error(tmp_path) -> None:
    from stackgen.errors import InputError

    with pytest.raises(InputError, match="does not exist"):
        load_crds([tmp_path / "missing"])


LLM_SERVICE = {"apiVersion": "serving.kserve.io/v1alpha2", "kind": "LLMInferenceService",
               "metadata": {"name": "qwen"},
               "spec": {"model": {"uri": "hf://Qwen/Qwen2.5-7B-Instruct", "name": "Qwen"},
                        "parallelism": {"tensor": 2},
                        "template": {"containers": [{"name": "main", "resources": {
                            "limits": {"nvidia.com/gpu": "2", "cpu": 4}}}],
                            "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}]},
                        "router": {"route": {}, "gateway": {}, "scheduler": {}}}}
ISVC = {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService", "metadata": {"name": "m"},
        "spec": {"predictor": {"minReplicas": 1, "model": {
            "modelFormat": {"name": "huggingface"}, "args": ["--max-model-len=8192"],
            "resources": {"limits": {"nvidia.com/gpu": "1", "memory": "24Gi"}}}}}}


@pytest.fixture(scope="module")
def checks(crds):
    """(document, yes/no verdict, error-collecting check) for a built-in kind and two CRDs."""
    crd = load_crds([crds])
    builtin = builtin_schemas(VERSION)
    out = []
    for doc, owner, schema in (
            (DEPLOYMENT, builtin,
             json.loads((_schema_root() / f"v{VERSION}.0-local-strict" / "deployment-apps-v1.json").read_text())),
            (LLM_SERVICE, crd, crd.schemas[("serving.kserve.io/v1alpha2", "LLMInferenceService")]),
            (ISVC, crd, crd.schemas[("serving.kserve.io/v1beta1", "InferenceService")])):
        out.append((doc, owner._compiler._verdicts.test(schema), owner._compiler.compile(schema)))
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_fast_verdict_agrees_with_the_full_check(checks, data) -> None:
    base, verdict, full = data.draw(st.sampled_from(checks))
    doc = copy.deepcopy(base)
    path = data.draw(st.sampled_from([p for p in doc_paths(doc) if p]))
    value = data.draw(VALUES | st.floats(allow_nan=False) | st.sampled_from(["Exists", "2", 0, True]))
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    if data.draw(st.booleans()) and isinstance(parent, dict):
        parent["x" + str(path[-1])] = value
    else:
        parent[path[-1]] = value
    errors: list = []
    full(doc, (), errors)
    assert verdict(doc) == (not errors), errors
    assert verdict(base)


@pytest.mark.parametrize("port", [8000, "http", None, 1.5, True, [], 2.0])
def test_int_or_string_verdicts(checks, port) -> None:
    """IntOrString is `oneOf: [string|null, integer|null]`: null matches both, so fails."""
    base, verdict, full = checks[0]
    doc = copy.deepcopy(base)
    doc["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["port"] = port
    errors: list = []
    full(doc, (), errors)
    assert verdict(doc) == (not errors) == REFERENCE.is_valid(doc)
