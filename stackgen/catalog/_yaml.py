"""Deprecated: use `stackgen.yamlio.read_data`. Kept only until stackgen/sizing/accuracy.py
and stackgen/sizing/tables.py import it from there; then delete this file."""

from stackgen.yamlio import read_data as read_yaml

__all__ = ["read_yaml"]
