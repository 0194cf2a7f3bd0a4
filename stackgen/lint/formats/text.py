"""Human output: findings grouped by file, each with the offending line."""

from __future__ import annotations

import io
from itertools import groupby

from rich.console import Console
from rich.markup import escape

from stackgen.lint.model import Report

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render_text(report: Report, *, color: bool = False) -> str:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, no_color=not color, width=120,
                      highlight=False, soft_wrap=True)
    ordered = sorted(report.findings, key=lambda f: (f.file, f.line, f.code))
    for file, group in groupby(ordered, key=lambda f: f.file):
        console.print(f"[bold]{escape(file)}[/bold]")
        for f in group:
            style = STYLE[f.severity]
            console.print(f"  {f.line:>4}  [{style}]{f.severity:<7}[/{style}] "
                          f"{f.code} {f.name}  [dim]{escape(f.obj.label())}[/dim]")
            console.print(f"        {escape(f.message)}")
            if f.source_line.strip():
                console.print(f"        [dim]{f.line:>4} |[/dim] {escape(f.source_line.rstrip())}")
            console.print(f"        [dim]fix: {escape(f.remediation)}[/dim]")
        console.print()
    s = report.summary()
    verdict = "no findings" if not report.findings else \
        f"{s['errors']} error(s), {s['warnings']} warning(s), {s['infos']} info(s)"
    console.print(f"{s['files']} file(s), {s['objects']} object(s): {verdict}")
    return buf.getvalue()
