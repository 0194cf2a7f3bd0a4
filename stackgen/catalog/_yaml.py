"""Read the catalog's YAML files (safe loader, plain Python types)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def read_yaml(path: Path) -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle)
