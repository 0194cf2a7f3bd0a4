"""The output options every command spells the same way, as kubectl and helm users expect.

- `-o/--output FORMAT` picks what is printed on stdout (text | json; lint adds sarif, junit
  and github). The value is checked while the command line is parsed: a bad one is exit 2
  with the formats allowed.
- `--output-dir DIR` names a folder to write into (`stackgen render`).
- `--output-file FILE` names a file to write (`stackgen init`'s stack file, lint's report).

Older spellings keep working as aliases (../shared/CONTRACT.md lists some of them: render's
`-o DIR`, init's `-o FILE`, lint's `--format`). `--help` shows the consistent spelling and
names the aliases in the option's help text, so they never crowd the options column.

Only typer is imported here: the command modules build their options at import time and
`stackgen --help` must stay fast.
"""

from __future__ import annotations

from typing import Any, Callable

import typer
from typer.core import TyperCommand

TEXT_JSON = ("text", "json")

#: command -> spellings that still work but are named only in the help text, not in the
#: options column (filled by the option builders below, read by StackgenCommand).
_ALIASES: dict[str, set[str]] = {}


def _also(aliases: tuple[str, ...]) -> str:
    return f" Also accepted: {', '.join(aliases)}." if aliases else ""


def _register(command: str, aliases: tuple[str, ...]) -> None:
    _ALIASES.setdefault(command, set()).update(aliases)


def output_format(command: str, formats: tuple[str, ...] = TEXT_JSON, *,
                  names: tuple[str, ...] = ("-o", "--output"), aliases: tuple[str, ...] = (),
                  default: str | None = "text", hint: Callable[[str], str] | None = None,
                  help: str | None = None) -> Any:
    """`-o/--output FORMAT`, checked against `formats` while parsing (exit 2 naming them);
    `hint(value)` may add to the fix of a bad value. With default None the command resolves
    the format itself (see `one_format`)."""
    _register(command, aliases)

    def check(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> str | None:
        if ctx.resilient_parsing or value is None or value in formats:
            return value
        from stackgen.errors import InputError

        extra = hint(value) if hint else ""
        raise InputError(f"{value!r} is not an output format", field="/".join(names),
                         fix=f"use {names[0]} {' | '.join(formats)}{extra}")

    text = help or f"Output format: {' | '.join(formats)}."
    if default is None and help is None:
        text += f"  [default: {formats[0]}]"
    return typer.Option(default, *names, *aliases, metavar=f"<{'|'.join(formats)}>", callback=check,
                        help=text + _also(aliases))


def one_format(*given: tuple[str, str | None], default: str) -> str:
    """The format from several spellings that are separate options (lint's -o/--output and
    --format): the one given, or `default`; two that disagree are a usage error."""
    chosen = [(flag, value) for flag, value in given if value is not None]
    if len({value for _, value in chosen}) > 1:
        from stackgen.errors import InputError

        flags = " and ".join(f"{flag} {value}" for flag, value in chosen)
        raise InputError(f"{flags} ask for different output formats",
                         fix="pass one of them (a file destination is --output-file FILE)")
    return next((value for _, value in chosen), default)


def output_dir(command: str, default: Any, *, help: str, aliases: tuple[str, ...] = ()) -> Any:
    """`--output-dir DIR`: the folder a command writes into."""
    _register(command, aliases)
    return typer.Option(default, "--output-dir", *aliases, metavar="<dir>", help=help + _also(aliases))


def output_file(command: str, default: Any, *, help: str, aliases: tuple[str, ...] = ()) -> Any:
    """`--output-file FILE`: the file a command writes."""
    _register(command, aliases)
    return typer.Option(default, "--output-file", *aliases, metavar="<file>", help=help + _also(aliases))


def aliases(command: str) -> frozenset[str]:
    """The spellings of `command` kept for compatibility (tests and docs read them)."""
    return frozenset(_ALIASES.get(command, ()))


class StackgenCommand(TyperCommand):
    """A typer command whose --help lists only the consistent spelling of each option; the
    aliases still parse (click knows every name) and are named in the option's help text."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        hidden = _ALIASES.get(self.name or "", set())
        saved = [(p, p.opts) for p in self.params if hidden.intersection(p.opts)]
        try:
            for param, opts in saved:
                param.opts = [o for o in opts if o not in hidden]
            super().format_options(ctx, formatter)
        finally:
            for param, opts in saved:
                param.opts = opts
