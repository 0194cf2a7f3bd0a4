"""Plan -> manifests (plain dicts, from sandboxed jinja2 templates) -> one atomic writer."""

from __future__ import annotations

from stackgen.decide.plan import Plan
from stackgen.render.build import build
from stackgen.render.context import Rendered
from stackgen.render.readme import stack_readme
from stackgen.render.writer import to_yaml
from stackgen.spec.models import Stack

__all__ = ["Rendered", "build", "render_files"]


def render_files(stack: Stack, plan: Plan) -> dict[str, str]:
    """Every file of the rendered folder (relative path -> text), deterministic."""
    objects = build(stack, plan)
    files = {item.path: to_yaml(item.obj) for item in objects}
    kustomization = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                     "resources": sorted(files)}
    files["kustomization.yaml"] = to_yaml(kustomization)
    files["README.md"] = stack_readme(stack, plan, objects)
    return dict(sorted(files.items()))
