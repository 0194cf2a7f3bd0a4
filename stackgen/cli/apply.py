"""`stackgen apply` / `stackgen delete`: a rendered folder against a cluster."""

from __future__ import annotations

from pathlib import Path

import typer


def apply(
    directory: Path = typer.Argument(..., help="A folder written by `stackgen render`."),
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", help="Kubeconfig file (default: KUBECONFIG or ~/.kube/config)."),
    context: str | None = typer.Option(None, "--context", help="Kube-context to use."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Preflight and diff only (server-side dry run); change nothing."),
    prune: bool = typer.Option(False, "--prune", help="Delete objects of the previous apply that the folder no longer holds (only those)."),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Follow the rollouts until ready."),
    timeout: float | None = typer.Option(None, "--timeout", help="Seconds to wait (default: the longest startup probe budget + 2 min)."),
    force_conflicts: bool = typer.Option(False, "--force-conflicts", help="Take over fields another field manager owns."),
    diff: bool = typer.Option(True, "--diff/--no-diff", help="Print the diff against the live objects."),
) -> None:
    """Server-side apply a rendered folder: preflight, diff, apply in order, prune, wait."""
    from stackgen.cli import cluster_output as show
    from stackgen.cluster.apply import apply_stack, first_install_without_canary
    from stackgen.cluster.kube import ClusterError, Kube
    from stackgen.cluster.manifests import load_folder, stack_identity
    from stackgen.cluster.preflight import preflight
    from stackgen.errors import CheckFailed

    objects = load_folder(directory)
    stack, namespace = stack_identity(objects)
    kube = Kube(kubeconfig, context)
    report = preflight(kube, objects)
    show.preflight(report)
    if report.errors:
        raise CheckFailed("preflight failed: " + "; ".join(report.errors))
    objects, held_back = first_install_without_canary(kube, objects)
    for note in held_back:
        show.note(note)
    if diff or dry_run:
        plan = apply_stack(kube, objects, stack, namespace, dry_run=True, prune=False)
        if diff and plan.diff:
            typer.echo(plan.diff, nl=False)
        if dry_run:
            show.outcome(plan, dry_run=True)
            return
    outcome = apply_stack(kube, objects, stack, namespace, prune=prune,
                          force_conflicts=force_conflicts)
    show.outcome(outcome, dry_run=False)
    if outcome.conflicts:
        raise ClusterError("conflicts with other field managers (not overwritten; pass "
                           "--force-conflicts to take the fields over):\n  "
                           + "\n  ".join(outcome.conflicts))
    if wait:
        show.wait(kube, objects, timeout or show.default_timeout(objects))


def delete(
    directory: Path = typer.Argument(..., help="A folder written by `stackgen render`."),
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", help="Kubeconfig file."),
    context: str | None = typer.Option(None, "--context", help="Kube-context to use."),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait until the objects are gone."),
    timeout: float = typer.Option(300, "--timeout", help="Seconds to wait."),
) -> None:
    """Delete exactly what stackgen applied from this folder's stack (its inventory)."""
    from stackgen.cli import cluster_output as show
    from stackgen.cluster.apply import delete_stack, read_inventory
    from stackgen.cluster.kube import Kube
    from stackgen.cluster.manifests import load_folder, stack_identity

    stack, namespace = stack_identity(load_folder(directory))
    kube = Kube(kubeconfig, context)
    refs = read_inventory(kube, stack, namespace)
    deleted = delete_stack(kube, stack, namespace)
    for item in deleted:
        typer.echo(f"deleted {item}")
    if not refs:
        typer.echo(f"nothing to delete: no inventory of stack {stack} in namespace {namespace}", err=True)
    if wait and refs:
        show.wait_gone(kube, refs, timeout)
