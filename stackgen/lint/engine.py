"""Run the linter: read files, validate schemas, apply rules, produce a Report."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from stackgen.errors import InputError
from stackgen.lint.config import LintConfig
from stackgen.lint.loader import LintObject, find_files, load_text, paused_gc
from stackgen.lint.model import Finding, ObjectRef, Report, Rule
from stackgen.lint.registry import RULES, all_rules
from stackgen.lint.rules import core
from stackgen.lint.schema.builtin import builtin_schemas, bundled_versions, schema_version
from stackgen.lint.schema.crd import CrdSchemas, load_crds
from stackgen.lint.schema.removed import removed_in
from stackgen.lint.workloads import pod_templates, release

IGNORE_ANNOTATION = "lint.stackgen.dev/ignore"
MAX_SCHEMA_ERRORS = 20  # per object: a wrong kind would otherwise bury everything else
PARALLEL_FROM = 64  # files; below this, worker start-up costs more than it saves


@dataclass(frozen=True)
class Options:
    kubernetes_version: str = ""
    crd_paths: tuple[Path, ...] = ()
    schema_only: bool = False
    config: LintConfig = field(default_factory=LintConfig)
    #: ConfigMaps of the linted files that hold engine settings (lint.settings)
    config_maps: tuple = ()
    debug: bool = False  # re-raise a rule's crash on a schema-invalid object

    def version(self) -> str:
        return self.kubernetes_version or self.config.kubernetes_version or bundled_versions()[-1]


@cache
def _crds(paths: tuple[Path, ...]) -> CrdSchemas:
    return load_crds(list(paths))


def check_options(options: Options) -> None:
    """Fail early (exit 2) on a version we have no schemas for or unreadable CRDs."""
    version = options.version()
    if schema_version(version) is None if _parses(version) else True:
        known = bundled_versions()
        raise InputError(f"unsupported Kubernetes version {version!r}", field="--kubernetes-version",
                         fix=f"use X.Y between {known[0]} and {known[-1]} (newer versions use {known[-1]}'s schemas)")
    _crds(options.crd_paths)


def _parses(version: str) -> bool:
    from stackgen.lint.schema.builtin import parse_version

    return parse_version(version) is not None


def active_rules(options: Options) -> list[Rule]:
    cfg = options.config
    rules = [r for r in all_rules() if (cfg.include is None or r.name in cfg.include)
             and r.name not in cfg.exclude]
    if options.schema_only:
        rules = [r for r in rules if r.target == "engine"]
    return rules


def display_path(path: Path, base: Path) -> str:
    """`path` relative to `base` (both with symlinks resolved), else as given."""
    real, root = _realpath(str(path)), _real_dir(str(base))
    if os.sep == "/" and real.startswith(root.rstrip("/") + "/"):
        return real[len(root.rstrip("/")) + 1:]
    try:
        return Path(real).relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


@cache
def _real_dir(folder: str) -> str:
    return os.path.realpath(folder)


def _realpath(file: str) -> str:
    """os.path.realpath, with the folder's part resolved once per folder (a file that is
    itself a symlink is resolved in full)."""
    folder, name = os.path.split(os.path.abspath(file))
    if not name or name in (".", "..") or os.path.islink(file):
        return os.path.realpath(file)
    return os.path.join(_real_dir(folder), name)


def lint_paths(paths: list[Path], options: Options, base: Path, jobs: int = 0) -> Report:
    """Lint every manifest file under `paths` (shown relative to `base`); `jobs` processes
    (0: automatic)."""
    check_options(options)
    files = _select(paths, options.config, base)
    jobs = jobs or (min(os.cpu_count() or 1, 8) if len(files) >= PARALLEL_FROM else 1)
    raw: dict[str, bytes] = {}
    if not options.schema_only:  # rules follow engine settings into other files' ConfigMaps
        raw = _read_all(files)
        options = replace(options, config_maps=_config_maps(raw.values()))
    report = Report(files=len(files))
    names = [(str(f), display_path(f, base)) for f in files]
    if jobs > 1 and len(files) > 1:
        results = _parallel(names, options, jobs)  # the workers read their own files
    else:
        results = (lint_file(Path(f), shown, options, raw.get(f)) for f, shown in names)
    for findings, objects in results:
        report.findings.extend(findings)
        report.objects += objects
    return report


def _read_all(files: list[Path]) -> dict[str, bytes]:
    """Every readable file's bytes, read once (lint_file reports the unreadable ones)."""
    from stackgen.yamlio import YamlError, read_bytes

    out = {}
    for path in files:
        try:
            out[str(path)] = read_bytes(path)
        except YamlError:
            continue
    return out


def _config_maps(contents) -> tuple:
    """The pre-pass: ConfigMaps with engine settings, from every file (a Deployment and the
    ConfigMap it mounts usually sit in different files)."""
    from stackgen.lint.settings import index_config_maps

    return index_config_maps([data.decode("utf-8", "replace") for data in contents])


def _select(paths: list[Path], cfg: LintConfig, base: Path) -> list[Path]:
    for path in paths:
        if not path.exists():
            raise InputError(f"{path} does not exist", field="PATH",
                             fix="pass manifest files or folders that exist")
    files = find_files(paths)
    return [f for f in files if not any(fnmatch.fnmatch(display_path(f, base), g) for g in cfg.ignore_paths)]


def _parallel(names: list[tuple[str, str]], options: Options, jobs: int):
    from concurrent.futures import ProcessPoolExecutor

    chunks = [names[i::jobs] for i in range(jobs)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for part in pool.map(_lint_chunk, chunks, [options] * jobs):
            yield from part


def _lint_chunk(names: list[tuple[str, str]], options: Options) -> list[tuple[list[Finding], int]]:
    return [lint_file(Path(f), shown, options) for f, shown in names]


def lint_file(path: Path, shown: str, options: Options,
              data: bytes | None = None) -> tuple[list[Finding], int]:
    """Lint one file (`data`: its bytes when already read)."""
    from stackgen.yamlio import YamlError, read_bytes

    try:  # regular files only, size-limited: no hang
        text = (data if data is not None else read_bytes(path)).decode("utf-8")
    except UnicodeDecodeError as err:
        return [_finding(core.YAML_SYNTAX, f"not UTF-8 text ({err.reason})", shown, 1,
                         ObjectRef(None, None, None, None), "", options)], 0
    except YamlError as err:
        raise err.input_error("lint regular manifest files (not FIFOs or devices) under the "
                              "size limit; check the path and its permissions", file=shown) from None
    return lint_text(text, shown, options)


def lint_text(text: str, shown: str, options: Options) -> tuple[list[Finding], int]:
    with paused_gc():  # see loader.paused_gc
        return _lint_text(text, shown, options)


def _lint_text(text: str, shown: str, options: Options) -> tuple[list[Finding], int]:
    if not options.config_maps and not options.schema_only:  # alone: its own ConfigMaps
        from stackgen.lint.settings import index_config_maps

        options = replace(options, config_maps=index_config_maps([text]))
    objects, problems = load_text(text, shown)
    lines = objects[0].lines if objects else text.splitlines()  # one list per file
    findings = [_finding(core.YAML_SYNTAX, p.message, shown, p.line, ObjectRef(None, None, None, None),
                         _source(lines, p.line), options) for p in problems]
    rules = active_rules(options)
    for obj in objects:
        findings.extend(lint_object(obj, rules, options))
        release(obj)  # no cycle left for the collector: the file's data is freed right away
    return [f for f in findings if f.code is not None and _enabled(f, rules)], len(objects)


def _enabled(finding: Finding, rules: list[Rule]) -> bool:
    return any(r.code == finding.code for r in rules)


def lint_object(obj: LintObject, rules: list[Rule], options: Options) -> list[Finding]:
    ignored = _ignored(obj)
    if "*" in ignored or "all" in ignored:
        return []
    hits = [(rule, path, message, None) for rule, path, message in _schema_hits(obj, options)]
    schema_broken = any(hit[0] is core.SCHEMA_INVALID for hit in hits)
    if not options.schema_only:
        _resolve_settings(obj, options, schema_broken)
    ctx = {**options.config.thresholds}
    for rule in rules:
        if rule.target == "engine" or not _applies(rule, obj.kind):
            continue
        for path, message, fix in _run(rule, obj, ctx, schema_broken, options):
            hits.append((rule, path, message, fix))
    out = []
    for rule, path, message, fix in hits:
        if rule.name in ignored or rule.code in ignored:
            continue
        line = obj.line_of(path)
        out.append(_finding(rule, message, obj.file, line, obj.ref, _source(obj.lines, line), options, fix))
    return out


def _resolve_settings(obj: LintObject, options: Options, schema_broken: bool) -> None:
    from stackgen.lint.settings import resolve

    try:
        for pod in pod_templates(obj):
            for c in pod.containers:
                c.settings = resolve(c, pod, options.config_maps)
    except (AttributeError, TypeError, ValueError, KeyError):
        if not schema_broken or options.debug:
            raise


def _applies(rule: Rule, kind: str) -> bool:
    return "*" in rule.kinds or kind in rule.kinds


def _run(rule: Rule, obj: LintObject, ctx: dict, schema_broken: bool,
         options: Options) -> list[tuple[tuple, str, str | None]]:
    try:
        if rule.target == "object":
            return [(h.path, h.message, h.remediation) for h in rule.check(obj, ctx)]
        return [(h.path, h.message, h.remediation) for pod in pod_templates(obj) for h in rule.check(pod, ctx)]
    except (AttributeError, TypeError, ValueError, KeyError):
        if schema_broken and not options.debug:
            return []  # the shape is wrong; schema-invalid already says where
        raise


def _ignored(obj: LintObject) -> set[str]:
    value = obj.annotations().get(IGNORE_ANNOTATION)
    return {part.strip() for part in str(value).split(",") if part.strip()} if value else set()


@cache
def _kind_schema(api_version: str, kind: str, version: str, crd_paths: tuple) -> tuple:
    """(removed: (release, replacement) or None, validator or None) of a kind, looked up once."""
    gone = removed_in(api_version, kind, version)
    if gone:
        return gone, None
    return None, _crds(crd_paths).validator(api_version, kind) \
        or builtin_schemas(schema_version(version)).validator(api_version, kind)


def _schema_hits(obj: LintObject, options: Options):
    api_version, kind = obj.data.get("apiVersion"), obj.data.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
        missing = "apiVersion" if not isinstance(api_version, str) or not api_version else "kind"
        yield core.SCHEMA_INVALID, (missing,), f"missing or invalid {missing}"
        return
    version = options.version()
    gone, validator = _kind_schema(api_version, kind, version, options.crd_paths)
    if gone:
        yield core.API_REMOVED, ("apiVersion",), (f"{kind} {api_version} was removed in Kubernetes "
                                                  f"{gone[0]} (target {version}); use {gone[1]}")
        return
    if validator is None:
        yield core.SCHEMA_MISSING, ("apiVersion",), f"no schema for {kind} {api_version}; it was not validated"
        return
    errors: list = []
    validator(obj.data, (), errors)
    for path, message in errors[:MAX_SCHEMA_ERRORS]:
        where = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path).replace(".[", "[")
        yield core.SCHEMA_INVALID, path, f"{where or '(root)'}: {message}"


def _source(lines: list[str], line: int) -> str:
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _finding(rule: Rule, message: str, file: str, line: int, ref: ObjectRef, source: str,
             options: Options, remediation: str | None = None) -> Finding:
    severity = options.config.severity.get(rule.name, rule.severity)
    return Finding(rule.code, rule.name, severity, message, remediation or rule.remediation,
                   file, line, ref, source)


__all__ = ["Options", "lint_paths", "lint_text", "RULES"]
