"""The stack file (`stackgen.yaml`) as frozen, strict pydantic v2 models.

Field names follow the file's camelCase keys through aliases; Python code uses snake_case.
Unknown keys are errors. Cross-field checks live in `Stack`'s model validator so that one
load reports every problem with its field path.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from stackgen.engine_settings import RENDER_GPU_MEMORY_UTILIZATION, Quantization

API_VERSION = "stackgen.dev/v1alpha1"
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                       r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
SOURCE = re.compile(r"^(hf|s3|gs|pvc)://[^\s\x00-\x1f\x7f-\x9f\u2028\u2029]+$")
#: An OCI image reference (registry/path:tag or @digest), as the distribution spec defines it.
IMAGE = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z0-9]+([._-][a-z0-9]+)*)*(:[0-9]+)?"
                   r"(/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
                   r"(@sha256:[a-f0-9]{64})?$")

LLM_KINDS = frozenset({"llm"})
ModelKind = Literal["llm", "embedding", "reranker", "vision", "speech", "tabular", "other"]
Framework = Literal["onnx", "pytorch", "tensorflow", "tensorrt", "xgboost", "sklearn", "python"]


def _dns1123(value: str) -> str:
    if len(value) > 63 or not DNS1123_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a DNS-1123 label: use at most 63 lower-case letters, digits "
            "and '-', starting and ending with a letter or digit (e.g. 'llama-chat')")
    return value


def _label_map(value: dict[str, str]) -> dict[str, str]:
    for key, val in value.items():
        if len(key) > 316 or not LABEL_KEY.match(key) or len(key.rsplit("/", 1)[-1]) > 63:
            raise ValueError(f"{key!r} is not a valid Kubernetes label key")
        if len(val) > 63 or not LABEL_VALUE.match(val):
            raise ValueError(f"label {key!r} has an invalid value {val!r} (at most 63 "
                             "letters, digits, '-', '_' or '.', starting and ending alphanumeric)")
    return value


def _source(value: str) -> str:
    if not SOURCE.match(value):
        raise ValueError(f"{value!r} is not a model source: use hf://org/name, s3://bucket/path, "
                         "gs://bucket/path or pvc://claim/path")
    return value


def _engine(value: str) -> str:
    from stackgen.catalog.servers import engines

    known = ["auto", *engines()]
    if value not in known:
        raise ValueError(f"{value!r} is not an engine: use one of {', '.join(known)} "
                         "(profiles/servers/ lists what each server serves)")
    return value


def _provider(value: str) -> str:
    from stackgen.catalog.providers import provider_ids

    if value not in provider_ids():
        raise ValueError(f"{value!r} is not a provider: use one of {', '.join(provider_ids())} "
                         "(profiles/providers/ holds their node-label conventions)")
    return value


DnsName = Annotated[str, AfterValidator(_dns1123)]
Engine = Annotated[str, AfterValidator(_engine)]
Provider = Annotated[str, AfterValidator(_provider)]
LabelMap = Annotated[dict[str, str], AfterValidator(_label_map)]
Source = Annotated[str, AfterValidator(_source)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel,
                              populate_by_name=True, strict=False)


class Metadata(_Model):
    name: DnsName
    namespace: DnsName = "default"


def _taint_key(value: str) -> str:
    if len(value) > 316 or not LABEL_KEY.match(value) or len(value.rsplit("/", 1)[-1]) > 63:
        raise ValueError(f"{value!r} is not a valid taint key (a label key: [prefix/]name, the name at most "
                         "63 letters, digits, '-', '_' or '.')")
    return value


def _taint_value(value: str) -> str:
    if len(value) > 63 or not LABEL_VALUE.match(value):
        raise ValueError(f"{value!r} is not a valid taint value (at most 63 letters, digits, '-', '_' or '.', "
                         "starting and ending alphanumeric)")
    return value


class Taint(_Model):
    key: Annotated[str, Field(min_length=1, max_length=316), AfterValidator(_taint_key)]
    value: Annotated[str, Field(max_length=63), AfterValidator(_taint_value)] | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"


class NodePool(_Model):
    name: DnsName
    gpu: str = Field(description="A GPU id from the catalog, or 'none' for a CPU pool")
    nodes: Annotated[int, Field(ge=0, le=10_000)] = 1
    gpus_per_node: Annotated[int, Field(ge=0, le=64)] | None = None
    labels: LabelMap = Field(default_factory=dict)
    taints: list[Taint] | None = None
    mig: Annotated[str, Field(pattern=r"^\d+g\.\d+gb$")] | None = None
    time_slicing: Annotated[int, Field(ge=2, le=64)] | None = None
    cpu_per_node: Annotated[float, Field(gt=0, le=1024)] | None = None
    memory_gib_per_node: Annotated[float, Field(gt=0, le=65536)] | None = None

    @property
    def is_gpu(self) -> bool:
        return self.gpu.lower() != "none"

    @property
    def gpus(self) -> int:
        """GPUs per node: given, else 8 for a GPU pool and 0 for a CPU pool."""
        if self.gpus_per_node is not None:
            return self.gpus_per_node if self.is_gpu else 0
        return 8 if self.is_gpu else 0


class Cluster(_Model):
    provider: Provider = "generic"
    node_pools: list[NodePool] = Field(default_factory=list)


class Traffic(_Model):
    peak_rps: Annotated[float, Field(ge=0, le=1_000_000)] = 1.0
    pattern: Literal["steady", "bursty", "diurnal", "batch"] = "steady"
    avg_input_tokens: Annotated[int, Field(ge=1, le=10_000_000)] = 512
    avg_output_tokens: Annotated[int, Field(ge=1, le=10_000_000)] = 256


class Slo(_Model):
    p95_latency_ms: Annotated[float, Field(gt=0, le=86_400_000)] | None = None
    ttft_ms: Annotated[float, Field(gt=0, le=86_400_000)] | None = None

    @property
    def tightest_ms(self) -> float | None:
        given = [v for v in (self.p95_latency_ms, self.ttft_ms) if v is not None]
        return min(given) if given else None


class ReplicaRange(_Model):
    min: Annotated[int, Field(ge=0, le=10_000)]
    max: Annotated[int, Field(ge=1, le=10_000)]

    @model_validator(mode="after")
    def _ordered(self) -> ReplicaRange:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class Canary(_Model):
    source: Source
    traffic_percent: Annotated[int, Field(ge=1, le=99)] = 10


class Model(_Model):
    name: DnsName
    source: Source
    kind: ModelKind
    framework: Framework | None = None
    traffic: Traffic = Field(default_factory=Traffic)
    slo: Slo = Field(default_factory=Slo)
    team: DnsName = "default"
    engine: Engine = "auto"
    max_model_len: Annotated[int, Field(ge=16, le=10_000_000)] | None = None
    dtype: Literal["auto", "bfloat16", "float16"] | None = None
    quantization: Quantization | Literal["auto"] | None = None   # auto: the plan may choose fp8
    model_config_path: str | None = Field(default=None, alias="modelConfig")
    replicas: Annotated[int, Field(ge=0, le=10_000)] | ReplicaRange | None = None
    node_pool: DnsName | None = None
    canary: Canary | None = None

    @property
    def is_llm(self) -> bool:
        return self.kind in LLM_KINDS


def _image(value: str) -> str:
    if len(value) > 512 or not IMAGE.match(value):
        raise ValueError(f"{value!r} is not an image reference: use registry/path:tag or "
                         "registry/path@sha256:digest")
    if value.endswith(":latest") or (":" not in value.rsplit("/", 1)[-1] and "@" not in value):
        raise ValueError(f"{value!r} is not pinned: give an explicit tag (not latest) or a digest")
    return value


Image = Annotated[str, AfterValidator(_image)]


class Images(_Model):
    runtime: Image | None = None
    triton: Image | None = None


def _vllm_version(value: str) -> str:
    from stackgen.sizing.releases import UnsupportedVersion, release_for

    try:
        release_for(value)
    except UnsupportedVersion as err:
        raise ValueError(str(err)) from None
    return value


class RenderOptions(_Model):
    autoscaler: Literal["hpa", "keda"] = "hpa"
    service_monitor: bool = False
    network_policy: bool = True
    storage_class: Annotated[str, AfterValidator(_dns1123)] | None = None
    prometheus_address: Annotated[str, Field(pattern=r"^https?://[^\s]+$")] = \
        "http://prometheus-operated.monitoring.svc:9090"
    gpu_memory_utilization: Annotated[float, Field(gt=0, le=1)] = RENDER_GPU_MEMORY_UTILIZATION
    #: the vLLM release the images run: sizing follows its memory accounting
    vllm_version: Annotated[str, AfterValidator(_vllm_version)] = "0.32"


class Requirements(_Model):
    teams: Annotated[int, Field(ge=1, le=10_000)] = 1
    canary: bool = False
    traffic_splitting: bool = False
    scale_to_zero: bool = False
    unified_api: bool = False
    orchestration: Literal["auto", "none", "kserve"] = "auto"


class StackSpec(_Model):
    cluster: Cluster = Field(default_factory=Cluster)
    models: Annotated[list[Model], Field(min_length=1, max_length=5000)]
    requirements: Requirements = Field(default_factory=Requirements)
    images: Images = Field(default_factory=Images)
    render: RenderOptions = Field(default_factory=RenderOptions)


class Stack(_Model):
    api_version: Literal["stackgen.dev/v1alpha1"]
    kind: Literal["Stack"]
    metadata: Metadata
    spec: StackSpec

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def namespace(self) -> str:
        return self.metadata.namespace

    def pool(self, name: str) -> NodePool | None:
        return next((p for p in self.spec.cluster.node_pools if p.name == name), None)
