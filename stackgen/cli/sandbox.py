"""`stackgen sandbox up|down`: a local control plane with kwok GPU nodes mirroring the
stack's node pools, to try `stackgen apply` without a GPU cluster."""

from __future__ import annotations

import os
from pathlib import Path

import typer

app = typer.Typer(help="A local control plane with kwok nodes mirroring the stack's node pools.",
                  no_args_is_help=True)


def state_dir() -> Path:
    root = os.environ.get("STACKGEN_SANDBOX_DIR") or Path(
        os.environ.get("STACKGEN_CACHE") or Path.home() / ".cache" / "stackgen") / "sandbox"
    return Path(root)


@app.command("up")
def up(
    file: Path = typer.Option(Path("stackgen.yaml"), "-f", "--file", help="The stack file whose node pools to mirror."),
    kubeconfig_out: Path | None = typer.Option(None, "--kubeconfig-out", help="Also copy the kubeconfig here."),
    controllers: bool = typer.Option(True, "--controllers/--no-controllers",
                                     help="Also run KServe's manager and the LeaderWorkerSet controller."),
) -> None:
    """Start the sandbox (etcd, kube-apiserver, controller-manager, scheduler, kwok, and the KServe and LWS controllers) and print its kubeconfig path."""
    import shutil

    from stackgen.cluster.controllers import missing_controllers
    from stackgen.cluster.controlplane import missing_binaries
    from stackgen.cluster.sandbox import sandbox_up
    from stackgen.cluster.stack_nodes import add_sandbox_volumes, kwok_pools, storage_classes
    from stackgen.errors import InputError
    from stackgen.spec import load_stack

    stack = load_stack(file)
    missing = missing_binaries() + (missing_controllers() if controllers else [])
    if missing:
        raise InputError(f"control-plane binaries are not built ({', '.join(missing)})",
                         fix="run `make controlplane` (Go 1.26 and the Go module proxy are needed once)"
                             + (", or pass --no-controllers" if controllers else ""))
    kubeconfig = sandbox_up(state_dir(), kwok_pools(stack), controllers=controllers)
    add_sandbox_volumes(str(kubeconfig), classes=storage_classes(stack))
    if kubeconfig_out:
        shutil.copyfile(kubeconfig, kubeconfig_out)
        kubeconfig_out.chmod(0o600)  # it holds the admin client key
        kubeconfig = kubeconfig_out
    typer.echo(str(kubeconfig))
    typer.echo(f"sandbox up: try `stackgen apply DIR --kubeconfig {kubeconfig}`; "
               "stop it with `stackgen sandbox down`", err=True)


@app.command("down")
def down() -> None:
    """Stop the sandbox and remove its files."""
    from stackgen.cluster.sandbox import sandbox_down

    stopped = sandbox_down(state_dir())
    typer.echo("sandbox stopped" if stopped else "no sandbox was running", err=True)
