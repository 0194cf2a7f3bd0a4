"""Errors the runtime reports to the user instead of a traceback."""

from __future__ import annotations


class RuntimeInputError(Exception):
    """Bad input (settings, model source, devices): exit code 2, one clear paragraph."""

    exit_code = 2

    def __init__(self, message: str, *, event: str = "input.invalid", **fields: object):
        super().__init__(message)
        self.message = message
        self.event = event
        self.fields = fields
