"""KServe InferenceService pitfalls."""

from __future__ import annotations

import re
from typing import Iterator

from stackgen.lint.loader import LintObject
from stackgen.lint.model import Hit
from stackgen.lint.registry import rule
from stackgen.lint.rules._util import get
from stackgen.lint.rules.probes import DEFAULT_BUDGET
from stackgen.lint.workloads import KSERVE_CONTAINER_KEYS, mapping, pod_templates

RAW_MODES = {"RawDeployment", "Standard", "ModelMesh"}
DEADLINE = "serving.knative.dev/progress-deadline"


def seconds(text: str) -> int | None:
    """A Go duration ('30m', '1h30m', '600s') in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|m|s)", str(text))
    if not parts or "".join(n + u for n, u in parts) != str(text).strip():
        return None
    return int(sum(float(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts))


def _serves_model(obj: LintObject) -> bool:
    pods = [p for p in pod_templates(obj) if p.label == "predictor"]
    return any(p.gpus() or any(c.server for c in p.containers) or "model" in p.spec for p in pods)


@rule("SG601", "knative-progress-deadline", "warning", kinds=("InferenceService",), target="object",
      description="A serverless InferenceService keeps Knative's default progress deadline.",
      anti_pattern="Knative marks a revision failed if it is not ready within 10 minutes; "
                   "pulling a multi-GB image and loading a large model takes longer, so the "
                   "InferenceService never becomes ready and Knative tears the pods down.",
      best_practice="Set `serving.knative.dev/progress-deadline` on the predictor (or the "
                    "InferenceService) above the model's worst-case start time, or use "
                    "RawDeployment (Standard) mode.",
      remediation="Add the annotation `serving.knative.dev/progress-deadline: 30m` (at least "
                  "the startup floor).")
def knative_progress_deadline(obj: LintObject, ctx: dict) -> Iterator[Hit]:
    ann = obj.annotations()
    if str(ann.get("serving.kserve.io/deploymentMode")) in RAW_MODES or not _serves_model(obj):
        return
    predictor_ann = mapping(get(obj.data, "spec", "predictor", "annotations"))
    floor = ctx.get("startupBudgetSeconds", DEFAULT_BUDGET)
    for where, found in ((("spec", "predictor", "annotations", DEADLINE), predictor_ann),
                         (("metadata", "annotations", DEADLINE), ann)):
        if DEADLINE in found:
            value = seconds(found[DEADLINE])
            if value is None or value < floor:
                yield Hit(where, f"{DEADLINE} is {found[DEADLINE]!r}, shorter than the startup "
                                 f"floor of {floor} s" if value is not None else
                                 f"{DEADLINE} {found[DEADLINE]!r} is not a duration like 30m")
            return
    yield Hit(("spec", "predictor"), "serverless InferenceService relies on Knative's default "
                                     "10-minute progress deadline")


@rule("SG602", "kserve-default-runtime", "warning", kinds=("InferenceService",), target="object",
      description="An InferenceService leaves the choice of serving runtime to KServe.",
      anti_pattern="`predictor.model.modelFormat: {name: huggingface}` with no `runtime:` (or "
                   "the old `predictor.huggingface:` shorthand): KServe picks whichever "
                   "ClusterServingRuntime supports the format with the highest priority, which "
                   "changes with KServe upgrades and cluster admins' runtimes.",
      best_practice="Name the runtime explicitly (`predictor.model.runtime: kserve-huggingfaceserver`).",
      remediation="Set `spec.predictor.model.runtime` to the ServingRuntime you tested with.")
def kserve_default_runtime(obj: LintObject, ctx: dict) -> Iterator[Hit]:
    predictor = mapping(get(obj.data, "spec", "predictor"))
    model = predictor.get("model")
    if isinstance(model, dict) and not model.get("runtime") and not predictor.get("containers"):
        fmt = mapping(model.get("modelFormat")).get("name", "?")
        yield Hit(("spec", "predictor", "model", "modelFormat"),
                  f"predictor model (format {fmt}) names no runtime")
    for key in KSERVE_CONTAINER_KEYS[1:]:
        if isinstance(predictor.get(key), dict):
            yield Hit(("spec", "predictor", key),
                      f"predictor uses the `{key}:` shorthand, which always takes KServe's default runtime")
