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
from typing import TYPE_CHECKING

from stackgen.resources import profiles_dir

if TYPE_CHECKING:
    from stackgen.catalog._server_schema import EngineChoice, ServerProfile

def _load(path: Path) -> ServerProfile:
    from pydantic import ValidationError

    from stackgen.catalog._server_schema import ServerProfile
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
