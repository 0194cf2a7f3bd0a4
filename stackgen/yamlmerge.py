"""Update a round-trip YAML document in place so comments and key order survive."""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq


def fresh_document(data: dict, header: str) -> CommentedMap:
    doc = _commented(data)
    doc.yaml_set_start_comment(header)
    return doc


def update_in_place(existing: Any, new: Any) -> Any:
    """Return `existing` updated to equal `new` in value, keeping comments where keys stay.

    Mappings update key by key (keys absent from `new` are kept: they are settings the
    questionnaire does not ask about); lists of named mappings match entries by name
    (entries no longer named are dropped); anything else is replaced.
    """
    if isinstance(existing, dict) and isinstance(new, dict):
        for key, value in new.items():
            existing[key] = update_in_place(existing[key], value) if key in existing else _commented(value)
        return existing
    if isinstance(existing, list) and isinstance(new, list) and _named(existing) and _named(new):
        by_name = {item["name"]: item for item in existing}
        kept = [update_in_place(by_name[i["name"]], i) if i["name"] in by_name else _commented(i)
                for i in new]
        existing[:] = kept
        return existing
    return _commented(new)


def _named(items: list) -> bool:
    return all(isinstance(i, dict) and "name" in i for i in items)


def _commented(value: Any) -> Any:
    if isinstance(value, dict) and not isinstance(value, CommentedMap):
        out = CommentedMap()
        for key, item in value.items():
            out[key] = _commented(item)
        return out
    if isinstance(value, list) and not isinstance(value, CommentedSeq):
        return CommentedSeq([_commented(v) for v in value])
    return value
