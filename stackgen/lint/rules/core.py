"""Rules the engine applies itself while reading and validating files."""

from __future__ import annotations

from stackgen.lint.model import Rule
from stackgen.lint.registry import register

YAML_SYNTAX = register(Rule(
    "SG001", "yaml-syntax", "error", ("*",),
    "The file is not valid YAML.",
    "A tab in the indentation, an unclosed quote or a missing colon makes kubectl reject "
    "the whole file.",
    "Keep manifests machine-written or checked by an editor with YAML support.",
    "Fix the YAML at the reported line; the other documents of the file are still linted.",
    target="engine"))

SCHEMA_INVALID = register(Rule(
    "SG002", "schema-invalid", "error", ("*",),
    "The object does not match the schema of its kind for the target Kubernetes version "
    "(built-in kinds) or of its CustomResourceDefinition (--crds).",
    "`resource:` instead of `resources:`, a GPU count written as a list, an unknown field "
    "that the API server drops silently or rejects.",
    "Validate every manifest against the schemas of the cluster version you deploy to.",
    "Fix the field at the reported line as the message says; pass --kubernetes-version to "
    "match your cluster.",
    target="engine"))

API_REMOVED = register(Rule(
    "SG003", "api-removed", "error", ("*",),
    "The apiVersion of the object was removed in the target Kubernetes version.",
    "`batch/v1beta1` CronJobs or `policy/v1beta1` PodDisruptionBudgets copied from old "
    "examples: the API server of a newer cluster refuses them.",
    "Use the stable apiVersion the migration guide names.",
    "Change apiVersion to the replacement named in the message and check the fields that "
    "changed with it.",
    target="engine"))

SCHEMA_MISSING = register(Rule(
    "SG004", "schema-missing", "info", ("*",),
    "No schema is known for the object's apiVersion and kind, so it was not validated.",
    "Custom resources linted without their CRDs: typos in them go unnoticed.",
    "Pass the CRDs your cluster runs with --crds (files or folders).",
    "Add `--crds PATH` (or `crds:` in .stackgen-lint.yaml) with the CRD of this kind.",
    target="engine"))
