"""What every builder needs about one model: names, labels, placement, images, options."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stackgen.catalog.servers import server
from stackgen.decide.plan import ModelPlan, Plan
from stackgen.render.names import base_labels, safe_name, selector_labels
from stackgen.render.placement import pod_placement
from stackgen.runtime.image import default_image
from stackgen.spec.models import Model, Stack

if TYPE_CHECKING:
    from stackgen.catalog._server_schema import ServerProfile

RUNTIME_IMAGE = default_image()


@dataclass(frozen=True)
class Rendered:
    path: str                # relative to the output folder
    obj: dict[str, Any]


@dataclass(frozen=True)
class ModelCtx:
    stack: Stack
    plan: Plan
    m: ModelPlan
    spec: Model

    @property
    def name(self) -> str:
        return safe_name(self.stack.name, self.m.name, limit=45)  # KServe adds "-predictor-..."

    @property
    def namespace(self) -> str:
        return self.stack.namespace

    def labels(self, component: str) -> dict[str, str]:
        labels = base_labels(self.stack.name, self.m.name, component)
        labels["stackgen.dev/team"] = self.m.team
        return labels

    @property
    def selector(self) -> dict[str, str]:
        return selector_labels(self.stack.name, self.m.name)

    @property
    def placement(self) -> dict[str, Any]:
        pool = self.stack.pool(self.m.node_pool) if self.m.node_pool else None
        return pod_placement(pool, self.stack.spec.cluster.provider)

    @property
    def gpu_memory_utilization(self) -> float:
        """vLLM's memory fraction for this model: the stack's, divided among the replicas
        that share a time-sliced GPU (time-slicing isolates no memory; the plan sized each
        replica for its share)."""
        util = self.stack.spec.render.gpu_memory_utilization
        pool = self.stack.pool(self.m.node_pool) if self.m.node_pool else None
        if pool is not None and pool.time_slicing and not pool.mig:
            return round(util / pool.time_slicing, 4)
        return util

    @property
    def runtime_image(self) -> str:
        return self.stack.spec.images.runtime or RUNTIME_IMAGE

    @property
    def server(self) -> ServerProfile:
        return server(self.m.server)

    def triton_image(self, backend: str | None) -> str:
        if self.stack.spec.images.triton:
            return self.stack.spec.images.triton
        return server("triton").image(backend)

    def path(self, kind: str, suffix: str = "") -> str:
        return f"models/{self.m.name}/{kind}{suffix}.yaml"


def content_hash(data: Any) -> str:
    """A pod-template annotation that changes when mounted configuration changes."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
