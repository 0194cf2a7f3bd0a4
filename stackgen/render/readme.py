"""README.md of a rendered stack: what was chosen, why, and what the cluster needs."""

from __future__ import annotations

from stackgen.decide.plan import Plan
from stackgen.render.context import Rendered
from stackgen.render.pods import HF_TOKEN_SECRET, STORAGE_SECRET
from stackgen.spec.models import Stack


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _models_table(plan: Plan) -> list[str]:
    lines = ["| model | kind | engine | server | node pool | GPU | TP x PP | GPUs/replica | replicas |",
             "|---|---|---|---|---|---|---|---|---|"]
    for m in plan.models:
        server = m.server + (f" ({m.backend})" if m.backend else "")
        lines.append("| " + " | ".join(_cell(v) for v in (
            m.name, m.kind, m.engine, server, m.node_pool or "any", m.gpu or "CPU",
            f"{m.tensor_parallel_size} x {m.pipeline_parallel_size}", m.gpus_per_replica,
            f"{m.replicas_min}-{m.replicas_max}")) + " |")
    return lines


def _prerequisites(stack: Stack, plan: Plan, kinds: set[str]) -> list[str]:
    items = [f"- Secret `{HF_TOKEN_SECRET}` (key `token`) in namespace `{stack.namespace}` for "
             "gated Hugging Face models (optional: public models need none)."]
    if any(m.source.startswith(("s3://", "gs://")) for m in plan.models):
        items.append(f"- Secret `{STORAGE_SECRET}` with the object store credentials "
                     "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or GOOGLE_APPLICATION_CREDENTIALS).")
    if "InferenceService" in kinds and any(m.source.startswith("hf://") for m in plan.models):
        items.append(f"- For KServe, the same Secret `{HF_TOKEN_SECRET}` must exist and also hold "
                     "the key `HF_TOKEN` (KServe's storage initializer reads it there; KServe "
                     "creates no pods while it is missing; an empty token serves public models).")
    if "InferenceService" in kinds:
        items.append("- KServe (InferenceService, ServingRuntime CRDs and controller); Knative "
                     "Serving for Serverless mode, with the podspec nodeselector/tolerations/"
                     "affinity feature flags enabled so GPU placement applies.")
    if "LeaderWorkerSet" in kinds:
        items.append("- The LeaderWorkerSet controller (multi-node models).")
    if "HorizontalPodAutoscaler" in kinds:
        items.append("- A custom-metrics adapter (e.g. prometheus-adapter) exposing the per-pod "
                     "metric each HPA names; its Prometheus query is in the HPA's "
                     "`stackgen.dev/metric-source` annotation.")
    if "ScaledObject" in kinds:
        items.append("- KEDA, and Prometheus at the address in each ScaledObject.")
    if "ServiceMonitor" in kinds:
        items.append("- The Prometheus operator (ServiceMonitor CRD).")
    if "PersistentVolumeClaim" in kinds:
        items.append("- A storage class for the model caches; caches shared by several replicas "
                     "are ReadWriteMany: spec.render.storageClass, else the provider's RWX "
                     "class (AKS azurefile-csi; GKE standard-rwx, with the Filestore CSI "
                     "driver enabled); on EKS and generic clusters name one (EFS, NFS).")
    return items


def stack_readme(stack: Stack, plan: Plan, objects: list[Rendered]) -> str:
    kinds = {item.obj["kind"] for item in objects}
    lines = [f"# Stack `{stack.name}`", "",
             "Rendered by stackgen from the stack file. Regenerate with `stackgen render`; put "
             "your own changes in `overlays/` (never overwritten).", "",
             f"Namespace: `{stack.namespace}`. Orchestration (layer 3): **{plan.orchestration}**.", ""]
    lines += [f"- {_cell(r)}" for r in plan.orchestration_reasons] + [""]
    lines += ["## Models (layers 1-2)", ""] + _models_table(plan) + [""]
    for m in plan.models:
        lines += [f"### {m.name}", ""] + [f"- {_cell(r)}" for r in m.reasons] + [""]
    if plan.warnings:
        lines += ["## Warnings", ""]
        lines += [f"- **{w.severity}** `{w.code}`: {_cell(w.message)}" for w in plan.warnings]
        lines.append("")
    lines += ["## Before you apply", ""] + _prerequisites(stack, plan, kinds) + [""]
    lines += ["## Apply", "", "```sh", "stackgen lint .", "stackgen apply . --wait",
              "# or: kubectl apply -k .   (or -k overlays/production)", "```", ""]
    return "\n".join(lines)
