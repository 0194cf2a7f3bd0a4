"""The editable tables behind replicas and cold start: profiles/throughput.yaml and
profiles/storage.yaml (loaded once, cached)."""

from __future__ import annotations

from functools import cache
from typing import Any

from stackgen.yamlio import read_data as read_yaml
from stackgen.resources import profiles_dir


@cache
def throughput_table() -> dict[str, Any]:
    return read_yaml(profiles_dir() / "throughput.yaml")


@cache
def storage_table() -> dict[str, Any]:
    return read_yaml(profiles_dir() / "storage.yaml")


@cache
def price_table() -> dict[str, Any]:
    return read_yaml(profiles_dir() / "prices.yaml")
