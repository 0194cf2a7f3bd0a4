"""Which ServingRuntime KServe picks for a predictor that names none (data, then the rule).

KServe (pkg/apis/serving/v1beta1/predictor_model.go, GetSupportingRuntimes) keeps the
runtimes that are not disabled, match the predictor's multi-node shape (a `workerSpec` or
not) and protocol (`protocolVersion`, default v1; v2 for the `triton` and `vLLM` formats
and for the `triton:`, `onnx:` and `huggingface:` shorthands) and auto-select its model
format (`supportedModelFormats` entries with `autoSelect: true`, the version too when the
predictor gives one); namespaced ServingRuntimes come first, then ClusterServingRuntimes,
each sorted by the format's `priority` (highest first; none last). The first one wins.

The candidates known here: KServe's built-in ClusterServingRuntimes (config/runtimes at
the commit the CRDs in ../shared/crds come from, aaac4e29) and stackgen's own namespaced
ServingRuntimes (profiles/servers/*.yaml `kserve:`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

# (format, version, autoSelect, priority) of one supportedModelFormats entry
Fmt = tuple[str, "str | None", bool, "int | None"]


@dataclass(frozen=True)
class Runtime:
    name: str
    protocols: tuple[str, ...]  # empty: any protocol
    formats: tuple[Fmt, ...]
    namespaced: bool = False
    multinode: bool = False
    stackgen: bool = False

    def serves(self, fmt: str, version: str | None, auto: bool) -> bool:
        """Whether an entry for `fmt` (and `version`, if given) exists with autoSelect == auto."""
        return any(name == fmt and (version is None or v == version) and bool(a) == auto
                   for name, v, a, _ in self.formats)

    def priority(self, fmt: str) -> int | None:
        return next((p for name, _, _, p in self.formats if name == fmt), None)

    def speaks(self, protocol: str) -> bool:
        return not self.protocols or protocol in self.protocols


def _fmts(*entries: tuple) -> tuple[Fmt, ...]:
    return tuple(entries)


_V12 = ("v1", "v2")
BUILT_IN = (
    Runtime("kserve-autogluonserver", _V12, _fmts(("autogluon", "1", True, 1))),
    Runtime("kserve-huggingfaceserver", _V12, _fmts(("huggingface", "1", True, 1))),
    Runtime("kserve-huggingfaceserver-multinode", _V12, _fmts(("huggingface", "1", True, 2)),
            multinode=True),
    Runtime("kserve-lgbserver", _V12, _fmts(("lightgbm", "4", True, 1))),
    Runtime("kserve-mlserver", ("v2",), _fmts(
        ("sklearn", "0", True, 2), ("sklearn", "1", True, 2), ("xgboost", "1", True, 2),
        ("xgboost", "2", True, 2), ("lightgbm", "3", True, 2), ("lightgbm", "4", True, 2),
        ("mlflow", "1", True, 1), ("mlflow", "2", True, 1))),
    Runtime("kserve-paddleserver", _V12, _fmts(("paddle", "2", True, 1))),
    Runtime("kserve-pmmlserver", _V12, _fmts(("pmml", "3", True, 1), ("pmml", "4", True, 1))),
    Runtime("kserve-predictiveserver", _V12, _fmts(
        ("sklearn", "1", False, 3), ("xgboost", "2", False, 3), ("lightgbm", "4", False, 3))),
    Runtime("kserve-sklearnserver", _V12, _fmts(("sklearn", "1", True, 1))),
    Runtime("kserve-tensorflow-serving", ("v1", "grpc-v1"), _fmts(
        ("tensorflow", "1", True, 2), ("tensorflow", "2", True, 2))),
    Runtime("kserve-torchserve", ("v1", "v2", "grpc-v2"), _fmts(("pytorch", "1", True, 2))),
    Runtime("kserve-tritonserver", ("v2", "grpc-v2"), _fmts(
        ("tensorrt", "8", True, 1), ("tensorflow", "1", True, 1), ("tensorflow", "2", True, 1),
        ("onnx", "1", True, 1), ("pytorch", "1", False, None), ("triton", "2", True, 1))),
    Runtime("kserve-vllmserver", (), _fmts(("vLLM", "1", True, 1))),
    Runtime("kserve-xgbserver", _V12, _fmts(("xgboost", "2", True, 1))),
)
V2_FORMATS = {"triton", "vLLM"}  # KServe defaults protocolVersion to v2 for these formats
V2_SHORTHANDS = {"triton", "onnx", "huggingface"}  # ... and for these predictor shorthands


@cache
def stackgen_runtimes() -> tuple[Runtime, ...]:
    """stackgen's ServingRuntimes (rendered into the stack's namespace) from the profiles."""
    from stackgen.catalog.servers import load_servers

    out = []
    for profile in load_servers().values():
        k = profile.kserve
        if k is None or k.built_in:
            continue
        formats = tuple((f.name, None, f.auto_select, f.priority) for f in k.formats)
        out.append(Runtime(k.runtime, tuple(k.protocols), formats, namespaced=True, stackgen=True))
    return tuple(out)


@dataclass(frozen=True)
class Selection:
    fmt: str
    protocol: str
    candidates: tuple[str, ...]  # in KServe's order: the first one wins
    opt_in: tuple[str, ...]  # stackgen runtimes that serve the format only when named

    def settled(self) -> bool:
        """One known runtime takes the format and no stackgen runtime waits to be named."""
        return len(self.candidates) == 1 and not self.opt_in


def _ranked(runtimes: list[Runtime], fmt: str) -> list[Runtime]:
    with_priority = sorted((r for r in runtimes if r.priority(fmt) is not None),
                           key=lambda r: -(r.priority(fmt) or 0))
    return with_priority + [r for r in runtimes if r.priority(fmt) is None]


def select(fmt: str, version: str | None, protocol: str, multinode: bool) -> Selection:
    def fits(r: Runtime) -> bool:
        return r.speaks(protocol) and r.multinode == multinode

    ours = [r for r in stackgen_runtimes() if fits(r)]
    auto = _ranked([r for r in ours if r.serves(fmt, version, True)], fmt) + \
        _ranked([r for r in BUILT_IN if fits(r) and r.serves(fmt, version, True)], fmt)
    opt_in = [r.name for r in ours if r.serves(fmt, version, False) and not r.serves(fmt, version, True)]
    return Selection(fmt, protocol, tuple(r.name for r in auto), tuple(opt_in))


def protocol_of(spec: dict, fmt: str, shorthand: str | None) -> str:
    """The protocol KServe gives a predictor model: its own, else KServe's default."""
    given = spec.get("protocolVersion")
    if isinstance(given, str) and given:
        return given
    if shorthand in V2_SHORTHANDS or (shorthand is None and fmt in V2_FORMATS):
        return "v2"
    return "v1"
