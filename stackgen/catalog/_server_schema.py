"""The server profiles' schema (pydantic), imported only when the catalog is first loaded,
so that importing the catalog (every lint worker does) costs no pydantic start-up."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ModelKind = Literal["llm", "embedding", "reranker", "vision", "speech", "tabular", "other"]
Parser = Literal["vllm", "vllm-serve", "stackgen-runtime", "triton"]
ALL_KINDS: tuple[str, ...] = ModelKind.__args__  # type: ignore[attr-defined]


class _Profile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class EngineChoice(_Profile):
    """An `engine:` value that picks this server, and what it may serve."""

    kinds: tuple[ModelKind, ...] = ALL_KINDS
    exclude_frameworks: tuple[str, ...] = Field(default=(), alias="excludeFrameworks")
    backend: str | None = None  # the server's backend this engine runs as (Triton: tensorrtllm)


class Health(_Profile):
    ready: str
    live: str


class Shm(_Profile):
    """GiB of memory-backed /dev/shm: per TP rank (vLLM, none at TP 1) or per backend."""

    per_tensor_parallel_gib: int = Field(default=0, alias="perTensorParallelGiB", ge=0)
    max_gib: int = Field(default=64, alias="maxGiB", ge=0)
    default_gib: int = Field(default=0, alias="defaultGiB", ge=0)
    backend_gib: dict[str, int] = Field(default_factory=dict, alias="backendGiB")


class Autoscaling(_Profile):
    metric: str
    query: str  # $namespace and $model are replaced
    threshold: float


class KserveFormat(_Profile):
    name: str
    auto_select: bool = Field(default=True, alias="autoSelect")
    priority: int | None = None


class Kserve(_Profile):
    runtime: str
    built_in: bool = Field(default=False, alias="builtIn")
    port: int = Field(default=8080, ge=1, le=65535)
    protocols: tuple[str, ...] = ()
    formats: tuple[KserveFormat, ...] = ()
    model_format: str = Field(alias="modelFormat")
    model_format_by_backend: dict[str, str] = Field(default_factory=dict, alias="modelFormatByBackend")


class Detect(_Profile):
    """One way a container shows it runs this server (exactly one of the matchers)."""

    executable: str | None = None
    command: tuple[str, ...] | None = None
    module: str | None = None
    image: str | None = None
    parser: Parser
    bare_args: bool = Field(default=False, alias="bareArgs")  # image entrypoint, args only
    default_port: int | None = Field(default=None, alias="defaultPort")


class ServerProfile(_Profile):
    id: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    name: str
    builder: str | None
    orchestrations: tuple[Literal["none", "kserve"], ...]
    engines: dict[str, EngineChoice]
    ports: dict[str, int]
    health: Health
    probe_paths: tuple[str, ...] = Field(default=(), alias="probePaths")
    probe_path_prefixes: tuple[str, ...] = Field(default=(), alias="probePathPrefixes")
    metrics_port: str = Field(default="http", alias="metricsPort")
    engine_args: Literal["vllm"] | None = Field(default=None, alias="engineArgs")
    shm: Shm = Field(default_factory=Shm)
    llm_backend: str | None = Field(default=None, alias="llmBackend")
    backends: dict[str, str] = Field(default_factory=dict)
    images: dict[str, str] = Field(default_factory=dict)
    autoscaling: Autoscaling | None = None
    kserve: Kserve | None = None
    detect: tuple[Detect, ...] = ()

    @property
    def http_port(self) -> int:
        return self.ports["http"]

    def image(self, backend: str | None) -> str | None:
        return self.images.get(backend or "default") or self.images.get("default")

    def shm_gib(self, tensor_parallel_size: int, backend: str | None) -> int:
        if self.shm.backend_gib or self.shm.default_gib:
            return self.shm.backend_gib.get(backend or "", self.shm.default_gib)
        if tensor_parallel_size <= 1:
            return 0
        return min(self.shm.max_gib, self.shm.per_tensor_parallel_gib * tensor_parallel_size)

    def kserve_format(self, backend: str | None) -> str:
        if self.kserve is None:
            raise LookupError(f"server {self.id} has no KServe runtime")
        return self.kserve.model_format_by_backend.get(backend or "", self.kserve.model_format)
