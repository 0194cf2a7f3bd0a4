"""Answers for `stackgen init`: parse --set flags, merge layers by precedence, resolve
every question without prompting, and turn answers into stack-file data (and back)."""

from __future__ import annotations

import re
from collections import ChainMap
from typing import Any

from stackgen.cli.questions import MODEL_QUESTIONS, REQUIRED, STACK_QUESTIONS, Question
from stackgen.errors import InputError

#: Stack-file keys an answers file may give per model / pool beyond the questions.
MODEL_PASSTHROUGH = ("engine", "nodePool", "maxModelLen", "dtype", "quantization", "replicas",
                     "modelConfig", "canary", "ttftMs", "pattern")
POOL_PASSTHROUGH = ("labels", "taints", "mig", "timeSlicing")
GROUPS = {"models": "model", "nodePools": "node pool"}
_STEP = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)|\[(\d+)\]")


def parse_set(item: str) -> tuple[list, Any]:
    """'models[0].name=chat' -> (['models', 0, 'name'], 'chat')."""
    key, sep, value = item.partition("=")
    path: list = []
    for part in key.split("."):
        matches = list(_STEP.finditer(part))
        if not part or "".join(m.group(0) for m in matches) != part:
            path = []
            break
        path += [m.group(1) if m.group(1) else int(m.group(2)) for m in matches]
    if not sep or not path or len(path) > 3 or isinstance(path[0], int):
        raise InputError(f"--set {item!r} is not KEY=VALUE", field="--set",
                         fix="use e.g. --set name=my-stack or --set models[0].source=hf://org/model")
    return path, value


def apply_sets(answers: dict, sets: list[str]) -> dict:
    for item in sets:
        path, value = parse_set(item)
        node: Any = answers
        for step, nxt in zip(path, path[1:], strict=False):
            if isinstance(step, int):
                while len(node) <= step:
                    node.append({})
                node = node[step]
            else:
                node = node.setdefault(step, [] if isinstance(nxt, int) else {})
        last = path[-1]
        if isinstance(last, int) or not isinstance(node, dict):
            raise InputError(f"--set {item!r} does not name a single answer", field="--set",
                             fix="name a field, e.g. --set models[0].name=chat")
        node[last] = value
    return answers


def merge(*layers: dict) -> dict:
    """Merge answer layers, the first winning; groups (lists) merge entry by entry."""
    top = dict(ChainMap(*[{k: v for k, v in layer.items() if k not in GROUPS} for layer in layers]))
    for group in GROUPS:
        lists = [layer.get(group) or [] for layer in layers]
        size = max((len(items) for items in lists), default=0)
        entries = [dict(ChainMap(*[items[i] for items in lists if i < len(items)]))
                   for i in range(size)]
        if entries:
            top[group] = entries
    return top


def resolve(question: Question, raw: Any, where: str) -> Any:
    try:
        return question.parse(raw)
    except ValueError as err:
        flag = f"--set {where}=VALUE"
        if question.default is REQUIRED and raw in (None, ""):
            raise InputError(f"missing answer {where!r} ({question.prompt})", field=where,
                             fix=f"pass {flag} or add `{where}` to the --answers file") from None
        raise InputError(f"answer {where!r} = {raw!r} is not valid: expected {err}", field=where,
                         fix=f"pass {flag} with a valid value") from None


def resolve_group(questions: tuple[Question, ...], given: dict, top: dict, prefix: str,
                  passthrough: tuple[str, ...] = ()) -> dict:
    known = {q.key for q in questions} | set(passthrough)
    for key in given:
        if key not in known:
            raise InputError(f"unknown answer {prefix + key!r}", field=prefix + key,
                             fix=f"known answers here: {', '.join(sorted(known))}")
    out: dict = {}
    for question in questions:
        if question.when(out, top):
            out[question.key] = resolve(question, given.get(question.key), prefix + question.key)
    out.update({k: given[k] for k in passthrough if k in given})
    return out


def resolve_all(answers: dict, pool_qs: tuple[Question, ...]) -> dict:
    """Resolve every answer without prompting (--non-interactive)."""
    groups = {k: answers.get(k) or [] for k in GROUPS}
    top = resolve_group(STACK_QUESTIONS, {k: v for k, v in answers.items() if k not in GROUPS},
                        {}, "")
    if not groups["models"]:
        raise InputError("no models in the answers", field="models",
                         fix="pass --set models[0].name=chat --set models[0].source=hf://org/model "
                             "--set models[0].kind=llm, or list models in the --answers file")
    top["nodePools"] = [resolve_group(pool_qs, p, top, f"nodePools[{i}].", POOL_PASSTHROUGH)
                        for i, p in enumerate(groups["nodePools"])]
    top["models"] = [resolve_group(MODEL_QUESTIONS, m, top, f"models[{i}].", MODEL_PASSTHROUGH)
                     for i, m in enumerate(groups["models"])]
    return top


def to_stack(answers: dict) -> dict:
    """Answers -> the stack file's mapping (plain dicts, keys in the contract's order)."""
    return {
        "apiVersion": "stackgen.dev/v1alpha1",
        "kind": "Stack",
        "metadata": {"name": answers["name"], "namespace": answers["namespace"]},
        "spec": {
            "cluster": {"provider": answers["provider"],
                        "nodePools": [_pool(p) for p in answers["nodePools"]]},
            "models": [_model(m) for m in answers["models"]],
            "requirements": {k: answers[k] for k in (
                "teams", "canary", "trafficSplitting", "scaleToZero", "unifiedApi",
                "orchestration")},
        },
    }


def _pool(p: dict) -> dict:
    out = {"name": p["name"], "gpu": p["gpu"], "nodes": p["nodes"]}
    if p["gpu"] != "none":
        out["gpusPerNode"] = p["gpusPerNode"]
    out.update({k: p[k] for k in POOL_PASSTHROUGH if k in p})
    return out


def _model(m: dict) -> dict:
    out: dict = {"name": m["name"], "source": m["source"], "kind": m["kind"]}
    if m.get("framework"):
        out["framework"] = m["framework"]
    traffic = {"peakRps": m["peakRps"]}
    traffic.update({k: m[k] for k in ("pattern", "avgInputTokens", "avgOutputTokens") if k in m})
    out["traffic"] = traffic
    slo = {k: m[k] for k in ("p95LatencyMs", "ttftMs") if m.get(k) is not None}
    if slo:
        out["slo"] = slo
    if "team" in m:
        out["team"] = m["team"]
    out.update({k: m[k] for k in MODEL_PASSTHROUGH if k in m and k not in ("ttftMs", "pattern")})
    return out


def from_stack(data: dict) -> dict:
    """A stack file's mapping -> answers, so a re-run of init offers them as defaults."""
    spec = data.get("spec") or {}
    meta = data.get("metadata") or {}
    cluster = spec.get("cluster") or {}
    answers: dict = {k: v for k, v in (spec.get("requirements") or {}).items()}
    answers.update({k: meta[k] for k in ("name", "namespace") if k in meta})
    if "provider" in cluster:
        answers["provider"] = cluster["provider"]
    answers["nodePools"] = [dict(p) for p in cluster.get("nodePools") or []]
    answers["models"] = []
    for m in spec.get("models") or []:
        flat = {k: v for k, v in m.items() if k not in ("traffic", "slo")}
        flat.update(m.get("traffic") or {})
        flat.update(m.get("slo") or {})
        answers["models"].append(flat)
    return answers
