"""Helpers shared by the lint tests (importable through this folder's conftest)."""

from __future__ import annotations


def doc_paths(doc, prefix=()):
    """Every key path in a parsed YAML document, the root's empty path first."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from doc_paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from doc_paths(v, prefix + (i,))
