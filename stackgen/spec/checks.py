"""Cross-field checks of a Stack that one field's validator cannot make."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from stackgen.spec.models import Stack

@dataclass(frozen=True)
class Problem:
    loc: tuple
    message: str
    fix: str | None = None


def cross_checks(stack: Stack, base_dir: Path) -> list[Problem]:
    problems: list[Problem] = []
    if stack.namespace.startswith("kube-"):
        problems.append(Problem(("metadata", "namespace"), f"{stack.namespace} is one of the cluster's own "
                                "namespaces: stackgen would render it as a Namespace it manages (and apply "
                                "--prune could delete what it does not own)",
                                "serve models from a namespace of their own, e.g. ml-serving"))
    problems += _duplicates(stack)
    problems += _pools(stack)
    problems += _models(stack, base_dir)
    return problems


def _duplicates(stack: Stack) -> list[Problem]:
    out = []
    for field, items in (("nodePools", stack.spec.cluster.node_pools), ("models", stack.spec.models)):
        counts = Counter(i.name for i in items)
        seen: set[str] = set()
        for index, item in enumerate(items):
            if counts[item.name] > 1 and item.name in seen:
                loc = ("spec", "cluster", field, index, "name") if field == "nodePools" \
                    else ("spec", field, index, "name")
                out.append(Problem(loc, f"duplicate name {item.name!r}",
                                   "give every entry its own name"))
            seen.add(item.name)
    return out


def _pools(stack: Stack) -> list[Problem]:
    from stackgen.catalog import gpu_ids, resolve_gpu

    out = []
    for index, pool in enumerate(stack.spec.cluster.node_pools):
        loc = ("spec", "cluster", "nodePools", index)
        if not pool.is_gpu:
            if pool.mig or pool.time_slicing:
                out.append(Problem(loc + ("gpu",), "mig/timeSlicing set on a CPU pool (gpu: none)",
                                   "remove mig/timeSlicing or set the pool's GPU id"))
            continue
        try:
            gpu = resolve_gpu(pool.gpu)
        except LookupError:
            out.append(Problem(loc + ("gpu",), f"unknown GPU {pool.gpu!r}",
                               f"use one of: {', '.join(gpu_ids())}, or 'none' for a CPU pool"))
            continue
        if gpu.gpu_class.startswith("cdna"):
            out.append(Problem(loc + ("gpu",), f"{gpu.id} is an AMD GPU: stackgen sizes it (stackgen size) but "
                               "does not render for it yet (AMD nodes offer amd.com/gpu and label "
                               "amd.com/gpu.product-name; the manifests ask for nvidia.com/gpu)",
                               "size the model with `stackgen size --gpu " + gpu.id + "` and write the pool's "
                               "manifests by hand, or plan on an NVIDIA pool"))
            continue
        if pool.gpus == 0:
            out.append(Problem(loc + ("gpusPerNode",), "a GPU pool needs gpusPerNode >= 1",
                               "set gpusPerNode, or gpu: none for a CPU pool"))
        if pool.mig and pool.time_slicing:
            out.append(Problem(loc + ("mig",), "mig and timeSlicing cannot both be set",
                               "choose MIG partitions or time-slicing for this pool"))
        if pool.mig and pool.mig not in gpu.mig_profiles:
            known = ", ".join(gpu.mig_profiles) or "none (this GPU has no MIG)"
            out.append(Problem(loc + ("mig",), f"{gpu.id} has no MIG profile {pool.mig!r}",
                               f"use one of: {known}"))
    return out


def _models(stack: Stack, base_dir: Path) -> list[Problem]:
    pools = {p.name for p in stack.spec.cluster.node_pools}
    out = []
    for index, model in enumerate(stack.spec.models):
        loc = ("spec", "models", index)
        if model.node_pool and model.node_pool not in pools:
            known = ", ".join(sorted(pools)) or "none are defined"
            out.append(Problem(loc + ("nodePool",), f"node pool {model.node_pool!r} is not in "
                               "spec.cluster.nodePools", f"use one of: {known}"))
        if model.is_llm and model.framework:
            out.append(Problem(loc + ("framework",), "framework applies to non-LLM models only",
                               "remove framework (LLMs are served by vLLM from HF weights)"))
        out += _engine(stack, model, loc)
        total = model.traffic.avg_input_tokens + model.traffic.avg_output_tokens
        if model.is_llm and model.max_model_len and total > model.max_model_len:
            out.append(Problem(loc + ("traffic", "avgInputTokens"),
                               f"a request of avgInputTokens + avgOutputTokens = {total} tokens is longer than "
                               f"maxModelLen {model.max_model_len}: vLLM rejects it",
                               f"raise maxModelLen to {total} or more, or shorten the requests"))
        if model.model_config_path:
            problem = config_path_problem(base_dir, model.model_config_path)
            if problem:
                out.append(Problem(loc + ("modelConfig",), *problem))
    return out


def _engine(stack: Stack, model, loc: tuple) -> list[Problem]:
    """An explicit engine must serve the model's kind and framework, under the stack's
    orchestration (profiles/servers/: engines, orchestrations)."""
    from stackgen.catalog.servers import engines

    if model.engine == "auto":
        return []
    server, choice = engines()[model.engine]
    where = loc + ("engine",)
    if model.kind not in choice.kinds:
        return [Problem(where, f"{model.engine} serves {', '.join(choice.kinds)} models, not "
                        f"{model.kind}", "use engine: auto (or one that serves this kind)")]
    if model.framework in choice.exclude_frameworks:
        return [Problem(where, f"engine {model.engine} ({server.name}) cannot serve a {model.framework} model",
                        "use engine: triton (or auto)")]
    orchestration = stack.spec.requirements.orchestration
    if orchestration != "auto" and orchestration not in server.orchestrations:
        return [Problem(where, f"{server.name} runs only with orchestration "
                        f"{' or '.join(server.orchestrations)}, but requirements.orchestration "
                        f"is {orchestration}",
                        f"set requirements.orchestration: {server.orchestrations[0]} (or auto), "
                        "or choose another engine")]
    return []


def config_path_problem(base_dir: Path, path: str) -> tuple[str, str] | None:
    """(message, fix) when `modelConfig` is not a config.json (or a folder holding one)
    inside the stack file's folder. A stack file is input a reviewer may not read closely
    (a pull request, a CI job): it must not make stackgen read /etc/passwd or a secret
    beside it, so absolute paths, `..` and symlinks that lead outside the folder are refused."""
    fix = ("put the model's HF config.json (or its folder) in the stack file's folder and "
           "give its relative path")
    if Path(path).is_absolute():
        return (f"{path!r} is an absolute path; modelConfig is read only from inside the "
                "stack file's folder", fix)
    root = base_dir.resolve()
    candidate = (root / path).resolve()
    if not candidate.is_relative_to(root):
        return (f"{path!r} leads outside the stack file's folder ({root})", fix)
    target = candidate / "config.json" if candidate.is_dir() else candidate
    if not target.is_file():
        return (f"{path!r} not found (relative paths are read from {base_dir})",
                "give the path to the model's HF config.json or its folder")
    if not target.resolve().is_relative_to(root):
        return (f"{path!r} leads outside the stack file's folder ({root})", fix)
    return None
