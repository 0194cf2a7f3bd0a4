"""stackgen's own engine settings, resolved the way stackgen-runtime resolves them.

A stackgen-runtime container says little on its command line (`--config
/etc/stackgen/engine.yaml`); the engine's TP, PP and context length are in the settings
document (stackgen.engine_settings, the one contract) that a mounted ConfigMap holds, or
that the STACKGEN_ENGINE_SETTINGS env carries inline (KServe predictors). The linter finds
that document, validates it against the contract, and gives the rules the vLLM options it
means (`vllm_flags`, the same mapping the runtime uses), with the container's own engine
arguments on top, as the runtime applies them.

`index_config_maps` is the pre-pass over every linted file: ConfigMaps whose data holds an
EngineSettings document, by (namespace, name).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from stackgen.engine_settings import SettingsError, parse_settings, vllm_flags
from stackgen.lint.servers import parse_options
from stackgen.yamlio import YamlError, load, load_all

CONFIG_ENV = "STACKGEN_RUNTIME_CONFIG"
INLINE_ENV = "STACKGEN_ENGINE_SETTINGS"
MARKER = "EngineSettings"  # files without it hold no settings document: skip the parse

ConfigMaps = tuple[tuple[tuple[str, str], tuple[tuple[str, str], ...]], ...]


@dataclass
class Resolution:
    """What became of a container's settings: `source` names where they came from; `problem`
    is set when they could not be read (`fatal`: the document breaks the contract)."""

    source: str | None = None
    problem: str | None = None
    fatal: bool = False
    where: tuple = ()


def index_config_maps(texts: list[str]) -> ConfigMaps:
    """((namespace, name), ((key, text), ...)) of every ConfigMap holding settings."""
    found: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
    for text in texts:
        if MARKER not in text:
            continue
        try:
            docs = load_all(text)
        except YamlError:
            continue  # the file's own lint run reports the syntax error
        for doc in docs:
            if not isinstance(doc, dict) or doc.get("kind") != "ConfigMap":
                continue
            meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
            data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
            entries = tuple((str(k), v) for k, v in data.items() if isinstance(v, str) and MARKER in v)
            if entries and meta.get("name"):
                found[(str(meta.get("namespace") or ""), str(meta["name"]))] = entries
    return tuple(sorted(found.items()))


def _lookup(maps: ConfigMaps, namespace: str | None, name: str) -> dict[str, str] | None:
    exact = [dict(entries) for (ns, n), entries in maps if n == name and ns == (namespace or "")]
    if exact:
        return exact[0]
    loose = [dict(entries) for (ns, n), entries in maps if n == name and (not ns or not namespace)]
    return loose[0] if loose else None


def _mounted_file(container, pod, path: str, maps: ConfigMaps) -> tuple[str | None, str]:
    """(document text, where it came from) for a file path inside the container."""
    for mount in container.mounts():
        root = str(mount.get("mountPath", "")).rstrip("/")
        if not root or not (path == root or path.startswith(root + "/")):
            continue
        volume = pod.volumes().get(str(mount.get("name")))
        config_map = volume.get("configMap") if isinstance(volume, dict) else None
        if not isinstance(config_map, dict) or not config_map.get("name"):
            return None, f"{path} is on volume {mount.get('name')}, which is not a ConfigMap"
        rel = str(mount["subPath"]) if mount.get("subPath") else posixpath.relpath(path, root)
        key = next((str(i.get("key")) for i in config_map.get("items") or []
                    if isinstance(i, dict) and i.get("path") == rel), rel)
        name = str(config_map["name"])
        data = _lookup(maps, pod.obj.ref.namespace, name)
        if data is None:
            return None, (f"ConfigMap {name} (mounted at {root}) is not among the linted files, "
                          "so its engine settings were not checked")
        if key not in data:
            return None, f"ConfigMap {name} has no key {key!r} with engine settings"
        return data[key], f"ConfigMap {name} key {key}"
    return None, f"nothing is mounted at {posixpath.dirname(path)}, so {path} does not exist in the pod"


def _document(container, pod, maps: ConfigMaps) -> tuple[str | None, str, tuple] | None:
    """The settings text, its origin and the path of what points at it; None: no settings."""
    server = container.server
    own = server.runtime_options or {}
    env = container.env_literals()
    config = own.get("config") if isinstance(own.get("config"), str) else env.get(CONFIG_ENV)
    if config:
        where = _arg_or_env(container, "--config", CONFIG_ENV)
        text, origin = _mounted_file(container, pod, config, maps)
        return text, origin, where
    if INLINE_ENV in env:
        return env[INLINE_ENV], f"env {INLINE_ENV}", _arg_or_env(container, None, INLINE_ENV)
    return None


def _arg_or_env(container, flag: str | None, env_name: str) -> tuple:
    from stackgen.lint.workloads import seq

    for key in ("args", "command"):
        for i, item in enumerate(seq(container.data.get(key))):
            if flag and str(item).startswith(flag):
                return container.path + (key, i)
    for i, item in enumerate(seq(container.data.get("env"))):
        if isinstance(item, dict) and item.get("name") == env_name:
            return container.path + ("env", i, "value")
    return container.path + ("name",)


def _takes_engine_args(server) -> bool:
    from stackgen.catalog.servers import server as profile

    return profile(server.kind).engine_args == "vllm"


def resolve(container, pod, maps: ConfigMaps) -> Resolution:
    """Merge the container's settings document into its server's options, in place."""
    server = container.server
    found = _document(container, pod, maps) if server is not None and _takes_engine_args(server) else None
    if found is None:
        return Resolution()
    text, origin, where = found
    if text is None:
        return Resolution(problem=origin, where=where)
    try:
        settings = parse_settings(load(text))
    except YamlError as err:
        return Resolution(origin, f"{origin} is not YAML: {err.detail}", True, where)
    except SettingsError as err:
        return Resolution(origin, f"{origin} breaks the engine settings contract: {err}", True, where)
    _merge(server, settings)
    return Resolution(source=origin, where=where)


def _merge(server: Any, settings) -> None:
    """Settings first, then what the command line gives (the runtime's precedence)."""
    own = server.runtime_options or {}
    port_given = "port" in own or "port" in server.options
    from_settings, _ = parse_options(vllm_flags(settings))
    server.options = {**from_settings, **server.options}
    server.options.pop("config", None)
    if server.model is None and settings.model:
        server.model = settings.model
    if not port_given:
        server.port = settings.port
