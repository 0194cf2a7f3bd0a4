"""Reading the engine settings file in the runtime (the contract itself is
:mod:`stackgen.engine_settings`, shared with render, sizing and lint).

The file is YAML or JSON (JSON is YAML). Keys are camelCase like the stack file; unknown
keys are an error. The schema is documented in docs/runtime.md.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from stackgen.engine_settings import EngineSettings, SettingsError, parse_settings
from stackgen.runtime.errors import RuntimeInputError

__all__ = ["EngineSettings", "load_settings", "parse_text", "validate_settings"]


def validate_settings(data: Any, source: str) -> EngineSettings:
    """Validates a parsed document; raises RuntimeInputError naming source and fields."""
    try:
        return parse_settings(data)
    except SettingsError as exc:
        raise RuntimeInputError(
            f"{source}: invalid engine settings: {exc}. "
            "Fix the file (or the stack it was rendered from); the schema is in docs/runtime.md.",
            event="settings.invalid",
            file=source,
            fields=exc.fields,
        ) from None


def parse_text(text: str, source: str) -> Any:
    """Parses YAML (which includes JSON); raises RuntimeInputError on a syntax error."""
    from stackgen.yamlio import YamlError, load

    try:
        return load(text) if text.strip() else {}
    except YamlError as exc:
        where = f" at line {exc.line}" + (f", column {exc.column}" if getattr(exc, "column", None) else "") \
            if exc.line else ""
        raise RuntimeInputError(
            f"{source}: not valid YAML or JSON{where}: {exc.detail}.",
            event="settings.invalid",
            file=source,
        ) from None


def load_settings(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Reads a settings file into a plain dict (validated later, after flag overrides)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuntimeInputError(
            f"{file}: cannot read the engine settings file ({exc.strerror}). "
            "Pass --config with the path of the mounted settings file.",
            event="settings.unreadable",
            file=str(file),
        ) from None
    data = parse_text(text, str(file))
    if not isinstance(data, dict):
        validate_settings(data, str(file))
    return data
