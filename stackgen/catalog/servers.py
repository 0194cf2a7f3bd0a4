"""The inference-server catalog: one YAML file per server under ``profiles/servers/``.

A server profile holds everything stackgen knows about a model server as data: the
`engine:` names that choose it, its ports and health paths, /dev/shm needs, Triton-style
backends and images, the autoscaling metric, its KServe ServingRuntime (formats,
protocols, port) and how `stackgen lint` recognises it in a container. decide, render and
lint read it from here; adding a server is its profile plus a render builder.

Profiles are validated when loaded (unknown keys, wrong types): a bad file is an InputError
naming the file and the field.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stackgen.resources import profiles_dir

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


def _load(path: Path) -> ServerProfile:
    from stackgen.errors import InputError
    from stackgen.yamlio import YamlError, read_data

    try:
        data = read_data(path)
        return ServerProfile.model_validate(data)
    except YamlError as err:
        raise InputError(f"invalid YAML: {err}", file=str(path)) from None
    except ValidationError as err:
        first = err.errors()[0]
        raise InputError(f"{first['msg']} ({len(err.errors())} problem(s))", file=str(path),
                         field=".".join(str(p) for p in first["loc"]),
                         fix="see the other profiles in profiles/servers/ and docs/extending.md") from None


@cache
def load_servers() -> dict[str, ServerProfile]:
    """Every server profile by id."""
    out: dict[str, ServerProfile] = {}
    for path in sorted((profiles_dir() / "servers").glob("*.yaml")):
        profile = _load(path)
        if profile.id != path.stem:
            from stackgen.errors import InputError

            raise InputError(f"the profile's id {profile.id!r} is not its file name", file=str(path),
                             field="id", fix=f"name the file {profile.id}.yaml or set id: {path.stem}")
        out[profile.id] = profile
    return out


def server_ids() -> list[str]:
    return list(load_servers())


def server(server_id: str) -> ServerProfile:
    """A server by id; LookupError naming the known ones."""
    found = load_servers().get(server_id)
    if found is None:
        raise LookupError(f"unknown server {server_id!r}; known: {', '.join(server_ids())}")
    return found


@cache
def engines() -> dict[str, tuple[ServerProfile, EngineChoice]]:
    """Every `engine:` value a stack file may give, with the server it chooses."""
    out: dict[str, tuple[ServerProfile, EngineChoice]] = {}
    for profile in load_servers().values():
        for name, choice in profile.engines.items():
            out.setdefault(name, (profile, choice))
    return out


def by_kserve_runtime(name: str) -> ServerProfile | None:
    return next((s for s in load_servers().values() if s.kserve and s.kserve.runtime == name), None)


def by_kserve_format(fmt: str) -> ServerProfile | None:
    """The server KServe picks for a model format when no runtime is named (built-in
    runtimes first: that is KServe's default choice)."""
    ranked = sorted(load_servers().values(), key=lambda s: not (s.kserve and s.kserve.built_in))
    return next((s for s in ranked if s.kserve and s.kserve.model_format == fmt), None)
