"""`-o json` prints exactly one JSON document on stdout, also when the command fails: the
error (exit code, message, file, line, field, fix) as `{"error": {...}, "errors": [...]}`,
while the human message still goes to stderr."""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any, Iterator

import typer


def error_json(err: BaseException) -> dict[str, Any]:
    from stackgen.errors import InputError, InputErrors, StackgenError

    def one(e: BaseException) -> dict[str, Any]:
        out: dict[str, Any] = {"exitCode": getattr(e, "exit_code", 1),
                               "message": getattr(e, "message", None) or str(e)}
        if isinstance(e, InputError):
            out.update(file=e.file, line=e.line, field=e.field, fix=e.fix)
        elif not isinstance(e, StackgenError):
            out["message"] = f"internal error: {type(e).__name__}: {e}"
        return out

    items = [one(e) for e in err.errors] if isinstance(err, InputErrors) else [one(err)]
    return {"error": items[0], "errors": items}


class JsonOutput:
    """Tracks whether the command printed its document; the error document is printed only
    if nothing was."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.printed = False

    def echo(self, document: Any) -> None:
        typer.echo(json.dumps(document, indent=2))
        self.printed = True


@contextmanager
def json_output(fmt: str | None) -> Iterator[JsonOutput]:
    out = JsonOutput(fmt == "json")
    try:
        yield out
    except (typer.Exit, typer.Abort):
        raise
    except Exception as err:
        if out.enabled and not out.printed:
            typer.echo(json.dumps(error_json(err), indent=2))
        raise
