"""Locate the data folders (templates/, profiles/) in a wheel or a source checkout."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path


@cache
def data_dir(name: str) -> Path:
    """Return the folder `name` (``templates`` or ``profiles``).

    In a wheel they are force-included under ``stackgen/_data``; in an editable install
    they sit at the repository root beside the package.
    """
    packaged = resources.files("stackgen") / "_data" / name
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / name


def profiles_dir() -> Path:
    return data_dir("profiles")


def templates_dir() -> Path:
    return data_dir("templates")
