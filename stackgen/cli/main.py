"""The `stackgen` console script: one typer app, one small module per command.

Command modules import only typer at module level; each command imports the heavy
libraries (pydantic models, jinja2, kubernetes) inside its body so `stackgen --help`
stays fast.
"""

from __future__ import annotations

import os
import sys

import typer

from stackgen import __version__
from stackgen.cli import apply as apply_cmd
from stackgen.cli import init as init_cmd
from stackgen.cli import lint as lint_cmd
from stackgen.cli import plan as plan_cmd
from stackgen.cli import render as render_cmd
from stackgen.cli import sandbox as sandbox_cmd
from stackgen.cli import size as size_cmd
from stackgen.cli.options import StackgenCommand

app = typer.Typer(
    name="stackgen",
    help="Choose, size, render, lint and apply model-serving stacks (vLLM, Triton, KServe) on Kubernetes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"stackgen {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Choose, size, render, lint and apply model-serving stacks on Kubernetes."""


app.command("init", cls=StackgenCommand)(init_cmd.init)
app.command("plan", cls=StackgenCommand)(plan_cmd.plan)
app.command("size", cls=StackgenCommand)(size_cmd.size)
app.command("render", cls=StackgenCommand)(render_cmd.render)
app.command("lint", cls=StackgenCommand)(lint_cmd.lint)
app.command("apply")(apply_cmd.apply)
app.command("delete")(apply_cmd.delete)
app.add_typer(sandbox_cmd.app, name="sandbox")


def run(argv: list[str] | None = None) -> int:
    """Run the app and return the exit code; stackgen's errors become messages, not tracebacks."""
    from stackgen.errors import StackgenError

    try:
        app(args=argv, prog_name="stackgen")
    except SystemExit as done:  # click's standalone mode ends every run with sys.exit
        code = done.code
        if isinstance(code, str):
            typer.echo(code, err=True)
            return 1
        return code or 0
    except StackgenError as err:
        typer.echo(err.render(), err=True)
        return err.exit_code
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except Exception as err:  # a bug in stackgen, not bad input
        if os.environ.get("STACKGEN_DEBUG"):
            raise
        typer.echo(f"internal error: {type(err).__name__}: {err}\n"
                   "  set STACKGEN_DEBUG=1 for the traceback and report it", err=True)
        return 1


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":  # pragma: no cover
    main()
