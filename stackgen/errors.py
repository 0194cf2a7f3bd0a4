"""Errors that the CLI turns into exit codes and one-paragraph messages.

InputError (exit 2): the user's input is wrong; it names the file, the line, the field
path and the fix. CheckFailed (exit 1): the input is fine but the check did not pass.
"""

from __future__ import annotations


class StackgenError(Exception):
    exit_code = 2

    def render(self) -> str:
        return str(self)


class InputError(StackgenError):
    """Bad input: exit code 2 with a message naming where and how to fix it."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
        fix: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        self.fix = fix

    def render(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        field = f"{self.field}: " if self.field else ""
        text = f"error: {where}{field}{self.message}"
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


class InputErrors(InputError):
    """Several input errors found in one pass (all are reported, not only the first)."""

    def __init__(self, errors: list[InputError]) -> None:
        super().__init__(errors[0].message, file=errors[0].file, line=errors[0].line,
                         field=errors[0].field, fix=errors[0].fix)
        self.errors = errors

    def render(self) -> str:
        return "\n".join(e.render() for e in self.errors)


class CheckFailed(StackgenError):
    """The input was valid but the check failed (lint findings, rollout, model does not fit)."""

    exit_code = 1
