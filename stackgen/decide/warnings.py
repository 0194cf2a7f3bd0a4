"""Warnings for the common mistakes (stable codes), each a small pure check over the plan."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from stackgen import capacity
from stackgen.decide.plan import ModelPlan, PlanWarning
from stackgen.spec.models import Stack

Check = Callable[[Stack, str, tuple[ModelPlan, ...]], Iterable[PlanWarning]]
CHECKS: list[Check] = []


def check(fn: Check) -> Check:
    CHECKS.append(fn)
    return fn


def plan_warnings(stack: Stack, orchestration: str, models: tuple[ModelPlan, ...]) -> tuple[PlanWarning, ...]:
    return tuple(w for fn in CHECKS for w in fn(stack, orchestration, models))


@check
def kserve_single_model(stack, orchestration, models):
    if orchestration == "kserve" and len(models) == 1:
        req = stack.spec.requirements
        justified = req.canary or req.traffic_splitting or req.scale_to_zero
        yield PlanWarning(
            "kserve-single-model",
            "KServe for a single model: its controller, Knative or Gateway API, a mesh and "
            "cert-manager are a lot of infrastructure for one Deployment+Service+HPA"
            + (" (justified here by canary/traffic-splitting/scale-to-zero; keep it if you need those)"
               if justified else "; set orchestration: none unless more models or teams are coming"),
            (models[0].name,), "info" if justified else "warning")


@check
def triton_llm_only(stack, orchestration, models):
    on_triton = [m.name for m in models if m.server == "triton"]
    if on_triton and all(m.kind == "llm" for m in models):
        yield PlanWarning(
            "triton-llm-only",
            "Triton for an LLM-only stack: its strengths are many frameworks and the model "
            "repository; for LLMs alone vLLM's own server is faster to set up with the same "
            "engine underneath", tuple(on_triton))


@check
def pool_short_of_peak(stack, orchestration, models):
    """The chosen layout serves the peak only with more replicas than its pool holds."""
    for m in models:
        if m.replicas_needed and not (m.slo and m.slo["met"] is False):
            yield PlanWarning(
                "pool-short-of-peak",
                f"{m.name} needs about {m.replicas_needed} replicas of {m.gpus_per_replica} GPU(s) for its "
                f"peak on {m.node_pool or m.gpu}, which holds {m.replicas_max}: requests will queue at peak; "
                "add nodes or GPUs, or lower traffic.peakRps", (m.name,))


@check
def slo_unmet(stack, orchestration, models):
    for m in models:
        if m.slo and m.slo["met"] is False:
            closest = (f"{m.replicas_min} x TP {m.tensor_parallel_size}"
                       + (f" x PP {m.pipeline_parallel_size}" if m.pipeline_parallel_size > 1 else "")
                       + f" on {m.node_pool or m.gpu}")
            perf = m.performance or {}
            terms = [f"{what} {m.slo[key]:g} ms" for what, key in (("p95 latency", "p95LatencyMs"), ("p95 TTFT", "ttftMs"))
                     if m.slo[key] is not None]
            yield PlanWarning(
                "slo-unmet",
                f"no layout meets {m.name}'s SLO ({', '.join(terms)}) at its peak; the closest is {closest}: "
                f"p95 latency {perf.get('p95LatencyMs', 0):,.0f} ms, p95 TTFT {perf.get('p95TtftMs', 0):,.0f} ms"
                f"{' (saturated)' if perf.get('saturated') else ''}. Add GPUs or nodes, allow fp8 "
                "(quantization: auto), shorten the outputs, or relax the SLO",
                (m.name,))


@check
def kserve_default_runtime(stack, orchestration, models):
    names = [m.name for m in models if m.kind == "llm" and m.server == "kserve-huggingface"]
    if names:
        yield PlanWarning(
            "kserve-default-runtime",
            "LLM on KServe's default Hugging Face runtime: you get KServe's orchestration but "
            "leave 3-5x throughput on the table; use engine: vllm (the stackgen-vllm "
            "ServingRuntime)", tuple(names))


@check
def scale_to_zero_cold_start(stack, orchestration, models):
    if not (stack.spec.requirements.scale_to_zero and orchestration == "kserve"):
        return
    by_name = {m.name: m for m in stack.spec.models}
    for plan in models:
        slo = by_name[plan.name].slo.tightest_ms
        warm = (plan.cold_start or {}).get("warmStartSeconds", plan.cold_start_seconds)
        first = plan.cold_start_seconds
        span = (f"about {warm:.0f} s on a node that has the image and the model cache, "
                f"{first:.0f} s when a new node must pull the image and download "
                f"{plan.weight_bytes / 1024**3:.1f} GiB of weights" if warm < first
                else f"about {first:.0f} s (pod start + loading {plan.weight_bytes / 1024**3:.1f} GiB of weights)")
        if slo is not None and warm * 1000 > slo:
            yield PlanWarning(
                "scale-to-zero-cold-start",
                f"{plan.name}: the first request after scale-from-zero waits {span}, beyond its "
                f"{slo:g} ms SLO; keep minReplicas >= 1 or measure the cold start before enabling "
                "scale-to-zero", (plan.name,))
        elif slo is None:
            yield PlanWarning(
                "scale-to-zero-cold-start",
                f"{plan.name}: scale-to-zero adds a cold start to the first request: {span}; "
                "measure it before relying on it in production", (plan.name,), "info")


@check
def triton_vllm_complementary(stack, orchestration, models):
    llm_vllm = [m.name for m in models if m.kind == "llm" and m.server == "vllm"]
    others = [m.name for m in models if m.server == "triton"]
    if llm_vllm and others:
        yield PlanWarning(
            "triton-vllm-backend",
            "vLLM and Triton are complementary, not competitors: this plan runs both; if you "
            "want one inference API for every model, set requirements.unifiedApi and the LLMs "
            "go through Triton's vLLM backend with the same PagedAttention engine",
            tuple(llm_vllm + others), "info")


@check
def many_models_without_orchestration(stack, orchestration, models):
    if orchestration == "none" and len(models) > 2:
        yield PlanWarning(
            "many-models-no-orchestration",
            f"{len(models)} models managed as plain Deployments: fine for one team; add KServe "
            "(orchestration: kserve) when you need self-service, canaries or scale-to-zero",
            tuple(m.name for m in models), "info")


@check
def canary_implications(stack, orchestration, models):
    req = stack.spec.requirements
    with_canary = [m.name for m in models if m.canary_source]
    if req.canary and not with_canary:
        yield PlanWarning(
            "canary-no-candidate",
            "canary: true with no model declaring a `canary:` version: KServe will run one "
            "revision per model and shift traffic to a new revision when you change its "
            "storageUri; add `canary: {source, trafficPercent}` to a model to stage one now",
            (), "info")
    if with_canary and orchestration == "none":
        yield PlanWarning(
            "canary-without-orchestration",
            "canary versions are declared but orchestration is none: plain Deployments cannot "
            "split traffic, so the canary versions are not rendered",
            tuple(with_canary))


@check
def framework_assumed(stack, orchestration, models):
    for spec in stack.spec.models:
        plan = next(m for m in models if m.name == spec.name)
        if not spec.is_llm and spec.framework is None and plan.server == "triton":
            yield PlanWarning(
                "framework-assumed",
                f"{spec.name}: no framework given; assumed {plan.framework} (Triton's "
                f"{plan.backend} backend); set framework to be sure", (spec.name,))


@check
def unknown_model(stack, orchestration, models):
    for plan in models:
        if plan.sizing is None and plan.kind == "llm":
            yield PlanWarning(
                "sizing-unknown-model",
                f"{plan.name}: {plan.source} is not in the model catalog, so it was sized "
                "conservatively; set modelConfig to its HF config.json for exact sizing",
                (plan.name,))


@check
def pool_capacity(stack, orchestration, models):
    pods: dict[str, list[int]] = defaultdict(list)  # GPUs of each pod the minimum replicas run
    for plan in models:
        if plan.node_pool:
            pods[plan.node_pool] += plan.pods_on_pool(plan.replicas_min)
    for pool in stack.spec.cluster.node_pools:
        per_node, asked = capacity.pool_units_per_node(pool), pods.get(pool.name, [])
        left = capacity.unplaced([per_node] * pool.nodes, asked)
        if not left:
            continue
        total, unit = capacity.schedulable_gpus(pool), _unit(pool)
        why = (f"has {total} {unit} but the minimum replicas of its models need {sum(asked)}"
               if sum(asked) > total else
               f"has {total} {unit} ({pool.nodes} node(s) x {per_node}) but {len(left)} of the "
               f"{len(asked)} pods of its models' minimum replicas find no node with room (a "
               "pod's GPUs must all be on one node)")
        yield PlanWarning("pool-over-capacity", f"node pool {pool.name} {why}; add nodes or lower replicas",
                          tuple(m.name for m in models if m.node_pool == pool.name))


def _unit(pool) -> str:
    if pool.mig:
        return f"MIG {pool.mig} instances"
    return "time-sliced GPU replicas" if pool.time_slicing else "GPUs"


@check
def triton_on_kserve_from_the_hub(stack, orchestration, models):
    """KServe's storage initializer copies storageUri as it is into the Triton runtime's model
    store, which Triton reads as a model repository (<model>/config.pbtxt, <model>/1/...);
    a Hugging Face repository is not one, so the model never loads."""
    if orchestration != "kserve":
        return
    hub = [m.name for m in models if m.server == "triton" and m.source.startswith("hf://")]
    if hub:
        yield PlanWarning(
            "triton-source-not-a-repository",
            f"{', '.join(hub)} run on Triton under KServe from a Hugging Face repository: "
            "KServe copies storageUri as it is into Triton's model store, which must be a Triton "
            "model repository (<model>/config.pbtxt and <model>/1/model.onnx, model.pt, ...); "
            "export the model into one on s3://, gs:// or a claim and use it as the source, or "
            "set requirements.orchestration: none (stackgen then lays the repository out itself)",
            tuple(hub))


@check
def shared_cache_without_rwx_class(stack, orchestration, models):
    """A vLLM model-cache claim shared by several pods needs a ReadWriteMany class; with
    none named and none known for the provider, the cluster's default (usually a block disk:
    EBS, Persistent Disk) leaves it Pending and the pods with it."""
    from stackgen.catalog.providers import provider_profile

    if orchestration == "kserve" or stack.spec.render.storage_class or \
            provider_profile(stack.spec.cluster.provider)["rwxStorageClass"]:
        return
    shared = [m.name for m in models if m.server == "vllm" and m.shares_model_cache]
    if shared:
        yield PlanWarning(
            "rwx-storage-class-missing",
            f"the model caches of {', '.join(shared)} are shared by several pods "
            "(ReadWriteMany), and no storage class is named: a cluster's default class is "
            "usually a block disk (EBS, Persistent Disk) that one node at a time can mount, "
            "so the claims stay Pending; set spec.render.storageClass to a ReadWriteMany class "
            "(EFS on EKS with its CSI driver, NFS, CephFS)", tuple(shared))


@check
def no_node_pools(stack, orchestration, models):
    if not stack.spec.cluster.node_pools:
        yield PlanWarning(
            "no-node-pools",
            "no node pools described: GPU models were sized for an assumed GPU and will land "
            "on any node with free GPUs; describe spec.cluster.nodePools for placement",
            tuple(m.name for m in models))
