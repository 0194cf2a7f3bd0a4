"""Deprecated: `fresh_document` and `update_in_place` live in `stackgen.yamlio`; kept only
until stackgen/cli/init.py imports them from there, then delete this file."""

from stackgen.yamlio import fresh_document, update_in_place

__all__ = ["fresh_document", "update_in_place"]
