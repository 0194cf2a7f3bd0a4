"""SARIF 2.1.0 for GitHub code scanning and other viewers.

Real 1-based lines, paths relative to the working directory (uriBaseId %SRCROOT%), every
rule with its help text, and a partialFingerprint that stays the same when unrelated lines
move: it hashes the rule, the file, the object and the message, not the line.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter

from stackgen import __version__
from stackgen.lint.model import Finding, Report, Rule
from stackgen.lint.registry import all_rules

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {"error": "error", "warning": "warning", "info": "note"}
INFO_URI = "https://github.com/stackgen/stackgen/blob/main/docs/lint-rules.md"


def _rule(rule: Rule) -> dict:
    help_text = (f"{rule.description}\n\nAnti-pattern: {rule.anti_pattern}\n\n"
                 f"Best practice: {rule.best_practice}\n\nFix: {rule.remediation}")
    markdown = (f"**{rule.description}**\n\n*Anti-pattern:* {rule.anti_pattern}\n\n"
                f"*Best practice:* {rule.best_practice}\n\n*Fix:* {rule.remediation}")
    return {"id": rule.code, "name": rule.name,
            "shortDescription": {"text": rule.description},
            "fullDescription": {"text": f"{rule.description} {rule.anti_pattern}"},
            "help": {"text": help_text, "markdown": markdown},
            "helpUri": f"{INFO_URI}#{rule.code.lower()}-{rule.name}",
            "defaultConfiguration": {"level": LEVEL[rule.severity]},
            "properties": {"tags": ["kubernetes", "model-serving"]}}


def fingerprint(f: Finding, seen: Counter) -> str:
    key = "|".join([f.code, f.file, str(f.obj.kind), str(f.obj.namespace), str(f.obj.name), f.message])
    seen[key] += 1  # identical findings in one object stay distinct, in order
    return hashlib.sha256(f"{key}|{seen[key]}".encode()).hexdigest()[:32]


def _artifact(file: str) -> dict:
    if file.startswith("/"):  # outside the working directory: an absolute file URI
        from pathlib import Path

        return {"uri": Path(file).as_uri()}
    return {"uri": file, "uriBaseId": "%SRCROOT%"}


def render_sarif(report: Report) -> str:
    rules = all_rules()
    index = {r.code: i for i, r in enumerate(rules)}
    seen: Counter = Counter()
    results = []
    for f in sorted(report.findings, key=lambda f: (f.file, f.line, f.code)):
        results.append({
            "ruleId": f.code, "ruleIndex": index[f.code], "level": LEVEL[f.severity],
            "message": {"text": f"{f.message} ({f.obj.label()})" if f.obj.kind else f.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": _artifact(f.file), "region": {"startLine": f.line}}}],
            "partialFingerprints": {"stackgenFinding/v1": fingerprint(f, seen)},
        })
    doc = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "stackgen-lint", "version": __version__,
                            "informationUri": INFO_URI, "rules": [_rule(r) for r in rules]}},
        "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "the directory stackgen lint ran in"}}},
        "results": results}]}
    return json.dumps(doc, indent=2) + "\n"
