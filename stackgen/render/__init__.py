"""Plan -> manifests (plain dicts, from sandboxed jinja2 templates) -> one atomic writer."""

from __future__ import annotations

from stackgen.decide.plan import Plan
from stackgen.render.build import build
from stackgen.render.context import Rendered
from stackgen.render.readme import stack_readme
from stackgen.render.writer import to_yaml
from stackgen.spec.models import Stack

__all__ = ["Rendered", "build", "render_files"]


BASE = "base"


def _kustomization(resources: list[str]) -> str:
    return to_yaml({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                    "resources": resources})


def render_files(stack: Stack, plan: Plan) -> dict[str, str]:
    """Every file of the rendered folder (relative path -> text), deterministic.

    `kustomization.yaml` lists every resource. Each folder of resources has its own
    kustomization too, and `base/` gathers them (and holds the Namespace), because kustomize
    refuses an overlay whose base folder contains it: `overlays/production` builds on
    `../../base`, never on the folder it lives in."""
    objects = build(stack, plan)
    files = {item.path: to_yaml(item.obj) for item in objects}
    resources = sorted(files)
    folders: dict[str, list[str]] = {}
    for path in resources:
        folder, _, name = path.rpartition("/")
        folders.setdefault(folder, []).append(name)
    base = list(folders.pop(BASE, []))
    for folder, names in sorted(folders.items()):
        files[f"{folder}/kustomization.yaml"] = _kustomization(names)
        base.append(f"../{folder}")
    files[f"{BASE}/kustomization.yaml"] = _kustomization(base)
    files["kustomization.yaml"] = _kustomization(resources)
    files["README.md"] = stack_readme(stack, plan, objects)
    return dict(sorted(files.items()))
