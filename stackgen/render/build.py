"""Plan -> rendered objects (plain dicts) with their file paths; pure, no I/O."""

from __future__ import annotations

from stackgen.decide.plan import Plan
from stackgen.render import kserve, triton, vllm
from stackgen.render.context import ModelCtx, Rendered
from stackgen.render.engine import RenderError, render_objects
from stackgen.render.names import base_labels
from stackgen.spec.models import Stack

REQUIRED_LABELS = ("app.kubernetes.io/managed-by", "app.kubernetes.io/part-of")
#: profiles/servers/ `builder` -> the module that renders that server: `build(ctx)` without
#: orchestration, `kserve_container(stack)` for its KServe ServingRuntime.
BUILDERS = {"vllm": vllm, "triton": triton}


def builder(server_id: str):
    """The render module of a server; RenderError when its profile names none we have."""
    from stackgen.catalog.servers import server

    profile = server(server_id)
    module = BUILDERS.get(profile.builder or "")
    if module is None:
        raise RenderError(f"server {server_id} has no render builder: its profile names "
                          f"builder {profile.builder!r}, and stackgen/render/build.py has "
                          f"{', '.join(sorted(BUILDERS))}")
    return module


def build(stack: Stack, plan: Plan) -> list[Rendered]:
    """Every object of the stack, in a stable order, each checked as data."""
    out: list[Rendered] = []
    if stack.namespace != "default":
        (ns,) = render_objects("common/namespace.yaml.j2", namespace=stack.namespace,
                               labels=base_labels(stack.name))
        out.append(Rendered("base/namespace.yaml", ns))
    specs = {m.name: m for m in stack.spec.models}
    contexts = [ModelCtx(stack, plan, m, specs[m.name]) for m in plan.models]
    if plan.orchestration == "kserve":
        out += kserve.serving_runtimes(stack, plan, lambda sid: builder(sid).kserve_container(stack))
        out += [kserve.inference_service(ctx) for ctx in contexts]
    else:
        for ctx in contexts:
            out += builder(ctx.m.server).build(ctx)
    _check(out, stack)
    return out


def _check(objects: list[Rendered], stack: Stack) -> None:
    seen: set[tuple[str, str]] = set()
    paths: set[str] = set()
    for item in objects:
        meta = item.obj["metadata"]
        labels = meta.get("labels") or {}
        if any(labels.get(k) is None for k in REQUIRED_LABELS) or labels[REQUIRED_LABELS[1]] != stack.name:
            raise RenderError(f"{item.path}: missing stackgen's ownership labels")
        key = (item.obj["kind"], meta["name"])
        if key in seen or item.path in paths:
            raise RenderError(f"two rendered objects are both {key[0]}/{key[1]} ({item.path}); "
                              "rename one of the models")
        seen.add(key)
        paths.add(item.path)
