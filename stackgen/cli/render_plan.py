"""Rich text output of a Plan: a table per layer, the reasons, the warnings."""

from __future__ import annotations

from pathlib import Path

import sys

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from stackgen.decide.plan import Plan


def _console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 160  # logs and pipes get full tables
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


def _gib(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def serving_table(plan: Plan) -> Table:
    table = Table(title="Layers 1-2: engine and server", title_justify="left")
    for col in ("model", "kind", "team", "engine", "server", "node pool", "GPU", "TPxPP",
                "GPUs/replica", "replicas"):
        table.add_column(col)
    for m in plan.models:
        server = m.server + (f" ({m.backend})" if m.backend else "")
        table.add_row(m.name, m.kind, m.team, m.engine, server, m.node_pool or "-",
                      m.gpu or "CPU", f"{m.tensor_parallel_size}x{m.pipeline_parallel_size}",
                      str(m.gpus_per_replica), f"{m.replicas_min}-{m.replicas_max}")
    return table


def sizing_table(plan: Plan) -> Table:
    table = Table(title="Sizing (per GPU)", title_justify="left")
    for col in ("model", "weights GiB", "KV cache GiB", "KV tokens", "max model len",
                "max concurrency", "cold start s"):
        table.add_column(col, justify="right" if col != "model" else "left")
    for m in plan.models:
        s = m.sizing or {}
        table.add_row(m.name, _gib(s.get("weightsGiBPerGpu")), _gib(s.get("kvCacheGiBPerGpu")),
                      str(s.get("kvCacheTokens", "-")), str(s.get("maxModelLen", m.max_model_len or "-")),
                      _fmt(s.get("maxConcurrency")), f"{m.cold_start_seconds:.0f}")
    return table


def _ms(value) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _slo(m) -> str:
    if not m.slo:
        return "none"
    parts = [f"p95 {m.slo['p95LatencyMs']:g} ms" if m.slo["p95LatencyMs"] is not None else "",
             f"TTFT {m.slo['ttftMs']:g} ms" if m.slo["ttftMs"] is not None else ""]
    return ", ".join(p for p in parts if p) + (" met" if m.slo["met"] else " NOT met")


def performance_table(plan: Plan) -> Table | None:
    rows = [m for m in plan.models if m.performance]
    if not rows:
        return None
    table = Table(title="Performance at peak (per replica, predicted: docs/performance-model.md)",
                  title_justify="left")
    for col in ("model", "rps/replica", "in flight", "TTFT ms", "p95 TTFT ms", "TPOT ms",
                "p95 latency ms", "bound", "SLO", "cost/h"):
        table.add_column(col, justify="left" if col in ("model", "bound", "SLO") else "right")
    for m in rows:
        p = m.performance
        table.add_row(m.name, _fmt(p.get("requestRatePerReplica")), f"{p['concurrency']:.1f}", _ms(p["ttftMs"]),
                      _ms(p["p95TtftMs"]), f"{p['tpotMs']:.1f}", _ms(p["p95LatencyMs"]), p["bound"], _slo(m),
                      "-" if m.cost_per_hour is None else f"${m.cost_per_hour:,.2f}")
    return table


def alternatives_table(plan: Plan) -> Table | None:
    rows = [(m, a) for m in plan.models for a in m.alternatives]
    if not rows:
        return None
    table = Table(title="Runner-up layouts", title_justify="left")
    for col in ("model", "node pool", "GPU", "TPxPP", "quant", "replicas", "GPUs", "cost/h",
                "p95 TTFT ms", "p95 latency ms", "why not chosen"):
        table.add_column(col, justify="right" if col in ("replicas", "GPUs", "cost/h", "p95 TTFT ms",
                                                          "p95 latency ms") else "left")
    for m, a in rows:
        table.add_row(m.name, a["nodePool"] or "-", a["gpu"], f"{a['tensorParallelSize']}x{a['pipelineParallelSize']}",
                      a["quantization"], str(a["replicas"]), str(a["gpus"]),
                      "-" if a["costPerHour"] is None else f"${a['costPerHour']:,.2f}",
                      _ms(a["p95TtftMs"]), _ms(a["p95LatencyMs"]), escape(a["why"]))
    return table


def _fmt(value) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def print_plan(plan: Plan) -> None:
    out = _console()
    out.print(f"[bold]Stack {plan.stack}[/] (namespace {plan.namespace})")
    out.print(f"[bold]Layer 3: orchestration = {plan.orchestration}[/]")
    for reason in plan.orchestration_reasons:
        out.print(f"  - {escape(reason)}")
    out.print(serving_table(plan))
    out.print(sizing_table(plan))
    for extra in (performance_table(plan), alternatives_table(plan)):
        if extra is not None:
            out.print(extra)
    out.print("[bold]Why[/]")
    for m in plan.models:
        out.print(f"  [bold]{m.name}[/]")
        for reason in m.reasons:
            out.print(f"    - {escape(reason)}")
    print_warnings(plan, out)


def print_warnings(plan: Plan, out: Console) -> None:
    if not plan.warnings:
        return
    out.print("[bold]Warnings[/]")
    for w in plan.warnings:
        colour = "yellow" if w.severity == "warning" else "cyan"
        who = f" ({', '.join(w.models)})" if w.models else ""
        out.print(f"  [{colour}]{w.severity}[/] {w.code}{escape(who)}: {escape(w.message)}")


def print_plan_summary(stack, base_dir: Path) -> None:
    """Short plan after `init` (on stderr, so stdout stays clean for scripts)."""
    from stackgen.catalog import stack_facts
    from stackgen.decide import decide
    from stackgen.errors import CheckFailed

    out = _console(stderr=True)
    try:
        plan = decide(stack, stack_facts(stack, base_dir))
    except CheckFailed as err:
        out.print(f"[red]plan: {err}[/]")
        return
    out.print(f"orchestration: {plan.orchestration}")
    out.print(serving_table(plan))
    print_warnings(plan, out)
    out.print("next: stackgen plan, then stackgen render --output-dir deploy/")
