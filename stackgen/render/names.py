"""Kubernetes names and labels derived from the stack: DNS-1123 safe, length-limited with a
stable hash suffix, and the labels every rendered object carries."""

from __future__ import annotations

import hashlib
import re

_INVALID = re.compile(r"[^a-z0-9-]+")


def safe_name(*parts: str, limit: int = 63) -> str:
    """Join parts into a DNS-1035 label (starts with a letter) of at most `limit` chars.

    Names that are too long keep a readable prefix and end in 8 hex chars of the full
    name's SHA-256, so the same input always gives the same name.
    """
    raw = "-".join(p for p in parts if p)
    name = _INVALID.sub("-", raw.lower()).strip("-")
    if not name or not name[0].isalpha():
        name = "m-" + name
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
    return name[: limit - 9].rstrip("-") + "-" + digest


def base_labels(stack: str, model: str | None = None, component: str | None = None) -> dict[str, str]:
    labels = {"app.kubernetes.io/managed-by": "stackgen", "app.kubernetes.io/part-of": stack}
    if model:
        labels["app.kubernetes.io/name"] = model
        labels["app.kubernetes.io/instance"] = safe_name(stack, model)
    if component:
        labels["app.kubernetes.io/component"] = component
    return labels


def selector_labels(stack: str, model: str) -> dict[str, str]:
    """The stable subset used in selectors (never changes for a model)."""
    return {"app.kubernetes.io/instance": safe_name(stack, model),
            "app.kubernetes.io/part-of": stack}
