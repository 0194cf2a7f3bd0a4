"""Rich output for apply/delete: preflight, what changed, rollout progress."""

from __future__ import annotations

import sys
import time

import typer
from rich.console import Console
from rich.markup import escape
from rich.live import Live
from rich.table import Table

from stackgen.errors import CheckFailed

_err = Console(stderr=True, highlight=False)


def preflight(report) -> None:
    _err.print(f"cluster version {report.version}")
    for warning in report.warnings:
        _err.print(f"[yellow]preflight warning[/]: {escape(warning)}", markup=True,
                   highlight=False, soft_wrap=True)
    for error in report.errors:
        _err.print(f"[red]preflight error[/]: {escape(error)}", soft_wrap=True)


def note(text: str) -> None:
    _err.print(f"note: {text}", markup=False, soft_wrap=True)


def outcome(out, dry_run: bool) -> None:
    verb = " (dry run)" if dry_run else ""
    for label, items in (("created", out.created), ("configured", out.configured),
                         ("unchanged", out.unchanged), ("pruned", out.pruned)):
        for item in items:
            typer.echo(f"{item} {label}{verb}")
    _err.print(f"{len(out.created)} created, {len(out.configured)} configured, "
               f"{len(out.unchanged)} unchanged, {len(out.pruned)} pruned{verb}")


def default_timeout(objects: list[dict]) -> float:
    """The longest startup-probe budget in the folder plus two minutes (at least 5 min)."""
    from stackgen.cluster.preflight import pod_templates

    budget = 180
    for obj in objects:
        for pod, _ in pod_templates(obj):
            for c in pod.get("containers") or []:
                probe = c.get("startupProbe") or {}
                budget = max(budget, probe.get("failureThreshold", 0) * probe.get("periodSeconds", 10))
    return float(budget + 120)


def _table(states) -> Table:
    table = Table(title="rollout", title_justify="left")
    for col in ("workload", "ready", "state"):
        table.add_column(col)
    for s in states:
        state = "ready" if s.done and not s.note else (s.note or "waiting")
        table.add_row(f"{s.ref.kind}/{s.ref.name}", f"{s.ready}/{s.desired}", state)
    return table


def wait(kube, objects: list[dict], timeout: float) -> None:
    from stackgen.cluster.wait import wait_for

    if sys.stderr.isatty():
        with Live(_table([]), console=_err, refresh_per_second=4) as live:
            ok, reasons = wait_for(kube, objects, timeout, lambda s: live.update(_table(s)))
    else:
        last: list[str] = []

        def report(states) -> None:
            nonlocal last
            lines = [f"{s.ref.kind}/{s.ref.name} {s.ready}/{s.desired}"
                     + (f" ({s.note})" if s.note else "") for s in states]
            if lines != last:
                _err.print("waiting: " + ", ".join(lines))
                last = lines

        ok, reasons = wait_for(kube, objects, timeout, report)
    if not ok:
        raise CheckFailed(f"rollout did not become ready within {timeout:.0f} s:\n  "
                          + "\n  ".join(reasons))
    _err.print("rollout complete")


def wait_gone(kube, refs, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    remaining = list(refs)
    while remaining and time.monotonic() < deadline:
        still = []
        for ref in remaining:
            res = kube.resource(ref.api_version, ref.kind)
            if ref.kind != "Namespace" and res and kube.request(
                    "GET", kube.path(res, ref.namespace, ref.name), ok_missing=True):
                still.append(ref)
        remaining = still
        if remaining:
            time.sleep(1)
    if remaining:
        raise CheckFailed(f"{len(remaining)} object(s) still present after {timeout:.0f} s: "
                          + ", ".join(f"{r.kind}/{r.name}" for r in remaining))
