"""Structured logs: one JSON object per line on stderr, one line per decision."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

LOGGER = "stackgen-runtime"


def log(event: str, *, level: str = "info", stream: TextIO | None = None, **fields: Any) -> None:
    """Writes {"ts", "level", "logger", "event", ...fields} as one line and flushes it."""
    now = time.time()
    record: dict[str, Any] = {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z",
        "level": level,
        "logger": LOGGER,
        "event": event,
    }
    record.update(fields)
    out = stream if stream is not None else sys.stderr
    out.write(json.dumps(record, default=str, sort_keys=False) + "\n")
    out.flush()
