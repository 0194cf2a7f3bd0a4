"""KServe InferenceService pitfalls."""

from __future__ import annotations

import re
from typing import Iterator

from stackgen.lint.kserve_runtimes import Selection, protocol_of, select
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
      description="An InferenceService names no serving runtime where the one KServe would pick "
                  "is not settled: several runtimes auto-select its model format, none does, "
                  "or a stackgen runtime serves the format only when named.",
      anti_pattern="`predictor.model.modelFormat: {name: huggingface}` with no `runtime:` (or "
                   "the `huggingface:` shorthand): KServe takes its Hugging Face server, not "
                   "the vLLM runtime stackgen renders (which serves huggingface only when "
                   "named); `sklearn` or `tensorflow` on protocol v2 go to whichever of Triton, "
                   "MLServer and KServe's own server ranks first, which changes with KServe "
                   "upgrades and the runtimes a cluster's admins install. (`sklearn` or "
                   "`tensorflow` on the default v1 protocol have exactly one built-in runtime "
                   "and are not reported.)",
      best_practice="Name the runtime explicitly (`predictor.model.runtime: stackgen-vllm`, "
                    "`kserve-huggingfaceserver`...) unless one built-in runtime is the only "
                    "one that serves the format.",
      remediation="Set `spec.predictor.model.runtime` to the ServingRuntime you tested with "
                  "(the finding names the candidates).")
def kserve_default_runtime(obj: LintObject, ctx: dict) -> Iterator[Hit]:
    predictor = mapping(get(obj.data, "spec", "predictor"))
    if predictor.get("containers"):
        return  # a custom container: no runtime is involved
    multinode = isinstance(predictor.get("workerSpec"), dict)
    for key in KSERVE_CONTAINER_KEYS:
        spec = predictor.get(key)
        if not isinstance(spec, dict) or (key == "model" and spec.get("runtime")):
            continue
        shorthand = None if key == "model" else key
        fmt = str(mapping(spec.get("modelFormat")).get("name") or "?") if key == "model" else key
        version = mapping(spec.get("modelFormat")).get("version") if key == "model" else None
        choice = select(fmt, None if version is None else str(version),
                        protocol_of(spec, fmt, shorthand), multinode)
        if choice.settled():
            continue
        where = ("spec", "predictor", "model", "modelFormat") if key == "model" else ("spec", "predictor", key)
        yield Hit(where, _message(choice, shorthand), _fix(choice))


def _message(choice: Selection, shorthand: str | None) -> str:
    what = f"the `{shorthand}:` shorthand" if shorthand else "predictor model"
    head = f"{what} (format {choice.fmt}, protocol {choice.protocol}) names no runtime"
    if choice.opt_in and choice.candidates:
        return (f"{head}: KServe auto-selects {choice.candidates[0]}, not {', '.join(choice.opt_in)} "
                f"(stackgen's runtime serves {choice.fmt} only when named)")
    if not choice.candidates:
        return (f"{head}, and no KServe built-in or stackgen runtime auto-selects that format: "
                "KServe takes whichever runtime the cluster has, or none")
    return (f"{head}; {len(choice.candidates)} runtimes auto-select it ({', '.join(choice.candidates)}): "
            f"KServe takes {choice.candidates[0]} where it is installed, and the pick changes with "
            "the runtimes a cluster has")


def _fix(choice: Selection) -> str:
    named = (choice.opt_in or choice.candidates or ("<your ServingRuntime>",))[0]
    return f"Set `spec.predictor.model.runtime: {named}` (with `modelFormat: {{name: {choice.fmt}}}`)."
