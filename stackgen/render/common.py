"""Resources every standalone server gets: Service, PVC, PDB, autoscaler, NetworkPolicy,
ServiceMonitor. Each returns Rendered objects from the common/ templates."""

from __future__ import annotations

import math
from typing import Any

from stackgen.render.context import ModelCtx, Rendered
from stackgen.render.engine import RenderError, render_objects


def one(ctx: ModelCtx, kind: str, template: str, **values: Any) -> Rendered:
    (obj,) = render_objects(template, namespace=ctx.namespace, **values)
    return Rendered(ctx.path(kind), obj)


def service(ctx: ModelCtx, component: str, ports: list[dict], name: str | None = None,
            selector: dict | None = None) -> Rendered:
    return one(ctx, "service", "common/service.yaml.j2", name=name or ctx.name,
               labels=ctx.labels(component), selector=selector or ctx.selector, ports=ports)


def storage_class(stack, shared: bool) -> str | None:
    """spec.render.storageClass, else for a shared (ReadWriteMany) cache the provider's RWX
    class (profiles/providers/: rwxStorageClass): a cluster's default class is usually a
    block-disk one that cannot be mounted by pods on several nodes, so the claim would stay
    Pending. None: the cluster's default (plan warns when that cannot share)."""
    from stackgen.catalog.providers import provider_profile

    if stack.spec.render.storage_class:
        return stack.spec.render.storage_class
    return provider_profile(stack.spec.cluster.provider)["rwxStorageClass"] if shared else None


def pvc(ctx: ModelCtx, component: str, name: str, size_gib: int, shared: bool) -> Rendered:
    return one(ctx, "pvc", "common/pvc.yaml.j2", name=name, labels=ctx.labels(component),
               access_modes=["ReadWriteMany" if shared else "ReadWriteOnce"],
               storage_class=storage_class(ctx.stack, shared), size=f"{size_gib}Gi")


def pdb(ctx: ModelCtx, component: str) -> Rendered:
    return one(ctx, "pdb", "common/pdb.yaml.j2", name=ctx.name, labels=ctx.labels(component),
               selector=ctx.selector)


def network_policy(ctx: ModelCtx, component: str, ports: list[int]) -> list[Rendered]:
    if not ctx.stack.spec.render.network_policy:
        return []
    return [one(ctx, "networkpolicy", "common/networkpolicy.yaml.j2", name=ctx.name,
                labels=ctx.labels(component), selector=ctx.selector,
                ports=[{"protocol": "TCP", "port": p} for p in ports])]


def service_monitor(ctx: ModelCtx, component: str, port: str) -> list[Rendered]:
    if not ctx.stack.spec.render.service_monitor:
        return []
    return [one(ctx, "servicemonitor", "common/servicemonitor.yaml.j2", name=ctx.name,
                labels=ctx.labels(component), selector=ctx.selector, port=port)]


def profile_metric(ctx: ModelCtx, threshold: float | None = None,
                   model: str | None = None) -> dict[str, Any]:
    """The autoscaling metric of the model's server (profiles/servers/: autoscaling), for the
    model as the server names it in its metrics (`model`; default: the model's name)."""
    scaling = ctx.server.autoscaling
    if scaling is None:
        raise RenderError(f"server {ctx.server.id} has no autoscaling metric in its profile")
    query = scaling.query.replace("$namespace", ctx.namespace).replace("$model", model or ctx.m.name)
    value = scaling.threshold if threshold is None else threshold
    return {"name": scaling.metric, "query": query,
            "threshold": int(value) if float(value).is_integer() else value}


def probes(ctx: ModelCtx, port: str = "http") -> dict[str, Any]:
    """Startup, readiness and liveness probes on the server's own health paths."""
    from stackgen.render import pods

    return pods.probes(ctx.m, port, ctx.server.health.ready, ctx.server.health.live)


def autoscaler(ctx: ModelCtx, component: str, target_kind: str, metric: dict[str, Any]) -> list[Rendered]:
    """HPA (autoscaling/v2, custom per-pod metric) or KEDA ScaledObject (Prometheus query).

    None when the replica count is fixed.
    """
    m = ctx.m
    if not m.autoscales:
        return []
    api = "leaderworkerset.x-k8s.io/v1" if target_kind == "LeaderWorkerSet" else "apps/v1"
    common = dict(name=ctx.name, labels=ctx.labels(component), target_api=api,
                  target_kind=target_kind, target=ctx.name,
                  min_replicas=max(m.replicas_min, 1), max_replicas=max(m.replicas_max, 1))
    if ctx.stack.spec.render.autoscaler == "keda":
        return [one(ctx, "scaledobject", "common/scaledobject.yaml.j2",
                    prometheus=ctx.stack.spec.render.prometheus_address,
                    query=metric["query"], threshold=str(metric["threshold"]), **common)]
    return [one(ctx, "hpa", "common/hpa.yaml.j2", metric=metric["name"],
                target_value=str(metric["threshold"]),
                annotations={"stackgen.dev/metric-source": metric["query"]},
                scale_up_period=_scale_up_period(m.cold_start_seconds), **common)]


HPA_MAX_PERIOD_SECONDS = 1800  # the apiserver refuses an HPA scaling policy period above 30 min


def _scale_up_period(cold_start_seconds: float) -> int:
    """One pod per cold start (rounded up to a minute): a new replica is counted only once
    it serves. Capped where Kubernetes caps a policy's period; the slowest starts then add
    at most one pod per 30 minutes, still slower than they come up."""
    return min(HPA_MAX_PERIOD_SECONDS, max(60, int(math.ceil(cold_start_seconds / 60) * 60)))
