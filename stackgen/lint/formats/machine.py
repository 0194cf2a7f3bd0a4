"""Machine output: JSON (the contract's shape), JUnit XML, GitHub workflow annotations."""

from __future__ import annotations

import json
from itertools import groupby
from xml.etree import ElementTree as ET

from stackgen.lint.model import Report


def render_json(report: Report) -> str:
    return json.dumps({"findings": [f.as_dict() for f in _ordered(report)],
                       "summary": report.summary()}, indent=2) + "\n"


def _ordered(report: Report):
    return sorted(report.findings, key=lambda f: (f.file, f.line, f.code))


def render_junit(report: Report) -> str:
    """One testsuite per file, one testcase per object with findings (a failure each)."""
    s = report.summary()
    root = ET.Element("testsuites", name="stackgen-lint", tests=str(max(len(report.findings), 1)),
                      failures=str(len(report.findings)))
    if not report.findings:
        suite = ET.SubElement(root, "testsuite", name="stackgen-lint", tests="1", failures="0")
        ET.SubElement(suite, "testcase", name=f"{s['files']} files, {s['objects']} objects",
                      classname="stackgen-lint")
    for file, group in groupby(_ordered(report), key=lambda f: f.file):
        group = list(group)
        suite = ET.SubElement(root, "testsuite", name=file, tests=str(len(group)), failures=str(len(group)))
        for f in group:
            case = ET.SubElement(suite, "testcase", name=f"{f.code} {f.name}: {f.obj.label()}",
                                 classname=file, file=file, line=str(f.line))
            failure = ET.SubElement(case, "failure", type=f.severity, message=f.message)
            failure.text = f"{file}:{f.line}: {f.message}\nfix: {f.remediation}"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    """`::error file=...,line=...,title=...::message` lines for GitHub Actions."""
    out = []
    for f in _ordered(report):
        title = _escape_prop(f"{f.code} {f.name}")
        message = _escape_data(f"{f.message} ({f.obj.label()}). Fix: {f.remediation}")
        out.append(f"::{LEVEL[f.severity]} file={_escape_prop(f.file)},line={f.line},title={title}::{message}")
    return "\n".join(out) + ("\n" if out else "")
