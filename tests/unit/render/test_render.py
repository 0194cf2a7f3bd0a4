"""`stackgen render`: every example renders to the committed golden folder, validates against
the Kubernetes schema and the real CRDs, builds with kustomize, and stays byte-identical."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
from _require import require_kubectl
from ruamel.yaml import YAML

from stackgen.catalog import stack_facts
from stackgen.decide import decide
from stackgen.render import render_files
from stackgen.spec import load_stack

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ["llm-only", "hybrid", "platform"]
K8S_VERSION = "1.33"


def files_for(example: str) -> dict[str, str]:
    path = ROOT / "examples" / example / "stackgen.yaml"
    stack = load_stack(path)
    return render_files(stack, decide(stack, stack_facts(stack, path.parent)))


def objects(files: dict[str, str]) -> list[tuple[str, dict]]:
    return [(rel, doc) for rel, text in files.items() if rel.endswith(".yaml")
            and not rel.endswith("kustomization.yaml")
            for doc in YAML(typ="safe").load_all(text) if doc]


@pytest.mark.parametrize("example", EXAMPLES)
def test_matches_golden(example: str) -> None:
    """Regenerate with `make golden` when a change to the output is intended."""
    golden = ROOT / "tests" / "golden" / example
    files = files_for(example)
    on_disk = {str(p.relative_to(golden)): p.read_text() for p in golden.rglob("*")
               if p.is_file() and ".stackgen" not in p.parts and "overlays" not in p.parts}
    assert sorted(on_disk) == sorted(files)
    for rel, text in files.items():
        assert on_disk[rel] == text, f"{example}/{rel} differs from the golden file"


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".stackgen" not in p.parts}


@pytest.mark.parametrize("example", EXAMPLES)
def test_two_renders_are_byte_identical(example: str, tmp_path: Path) -> None:
    """Two separate `stackgen render` runs, with different string hash seeds (set and dict
    order of str keys), write the same bytes."""
    outs = []
    for seed in ("1", "2"):
        out = tmp_path / f"seed-{seed}"
        subprocess.run([sys.executable, "-m", "stackgen.cli.main", "render", "-q", "-f",
                        str(ROOT / "examples" / example / "stackgen.yaml"), "--output-dir", str(out)],
                       env={**os.environ, "PYTHONHASHSEED": seed}, check=True, capture_output=True)
        outs.append(tree(out))
    assert len(outs[0]) > 5 and outs[0] == outs[1]


@pytest.mark.parametrize("example", EXAMPLES)
def test_objects_validate_against_schemas(example: str, crd_schemas) -> None:
    for rel, obj in objects(files_for(example)):
        group, _, version = obj["apiVersion"].rpartition("/")
        validator = crd_schemas.get((group, version, obj["kind"]))
        if validator is not None:
            errors = [e.message for e in validator.iter_errors(obj)]
            assert not errors, f"{rel}: {errors[:3]}"
        else:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "stackgen", rel
        assert labels["app.kubernetes.io/part-of"] == load_stack(
            ROOT / "examples" / example / "stackgen.yaml").name


@pytest.mark.parametrize("example", EXAMPLES)
def test_kustomization_lists_exactly_the_resources(example: str) -> None:
    files = files_for(example)
    kustomization = YAML(typ="safe").load(files["kustomization.yaml"])
    resources = {rel for rel in files if rel.endswith(".yaml") and not rel.endswith("kustomization.yaml")}
    assert set(kustomization["resources"]) == resources


def _kustomize(kubectl: str, folder: Path) -> list[dict]:
    proc = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return [o for o in YAML(typ="safe").load_all(proc.stdout) if o]


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_production_overlay_builds_the_whole_stack_with_the_users_patch(
        example: str, tmp_path: Path) -> None:
    """`kubectl kustomize overlays/production` (the documented place for user edits) builds
    every rendered object, and a patch written there takes effect; kustomize refused the
    overlay of earlier versions (base `../..` contains the overlay: a cycle)."""
    kubectl = require_kubectl()
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "stackgen.cli.main", "render", "-q", "-f",
                           str(ROOT / "examples" / example / "stackgen.yaml"), "-o", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    key = lambda o: (o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"])  # noqa: E731
    root = _kustomize(kubectl, out)
    overlay = out / "overlays" / "production"
    assert sorted(map(key, _kustomize(kubectl, overlay))) == sorted(map(key, root))
    with (overlay / "kustomization.yaml").open("a") as f:
        f.write("commonAnnotations:\n  team.example.com/owner: me\n")
    patched = _kustomize(kubectl, overlay)
    assert all(o["metadata"]["annotations"]["team.example.com/owner"] == "me" for o in patched)


def test_an_untouched_overlay_of_an_earlier_version_is_replaced_an_edited_one_kept(
        tmp_path: Path) -> None:
    from stackgen.render.writer import OLD_OVERLAY, OVERLAY

    stack = ROOT / "examples" / "llm-only" / "stackgen.yaml"
    for name, before, after in (("old", OLD_OVERLAY, OVERLAY),
                                ("edited", OLD_OVERLAY + "namePrefix: x-\n", None)):
        target = tmp_path / name / "overlays" / "production" / "kustomization.yaml"
        target.parent.mkdir(parents=True)
        target.write_text(before)
        proc = subprocess.run([sys.executable, "-m", "stackgen.cli.main", "render", "-q", "-f",
                               str(stack), "-o", str(tmp_path / name)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert target.read_text() == (after or before)


@pytest.mark.parametrize("example", EXAMPLES)
def test_kubectl_kustomize_builds_every_object(example: str, tmp_path: Path) -> None:
    kubectl = require_kubectl()
    files = files_for(example)
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    built = subprocess.run([kubectl, "kustomize", str(tmp_path)], capture_output=True,
                           text=True, check=True).stdout
    key = lambda o: (o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"])  # noqa: E731
    assert sorted(key(o) for o in YAML(typ="safe").load_all(built) if o) == \
        sorted(key(o) for _, o in objects(files))


def by_kind(files: dict[str, str], kind: str, model: str) -> dict:
    return next(o for rel, o in objects(files) if o["kind"] == kind and f"models/{model}/" in rel)


def test_vllm_deployment_is_production_grade() -> None:
    files = files_for("hybrid")
    dep = by_kind(files, "Deployment", "chat")
    pod = dep["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    limits, requests = c["resources"]["limits"], c["resources"]["requests"]
    assert limits["nvidia.com/gpu"] == requests["nvidia.com/gpu"] and int(limits["nvidia.com/gpu"]) >= 2
    assert not c["image"].endswith(":latest") and ":" in c["image"]
    assert c["startupProbe"]["failureThreshold"] * c["startupProbe"]["periodSeconds"] >= 600
    assert c["readinessProbe"]["httpGet"]["path"] == "/health"
    shm = next(v for v in pod["volumes"] if v["name"] == "dshm")
    assert shm["emptyDir"] == {"medium": "Memory", "sizeLimit": shm["emptyDir"]["sizeLimit"]}
    token = next(e for e in c["env"] if e["name"] == "HF_TOKEN")
    assert token["valueFrom"]["secretKeyRef"]["name"] == "hf-token"
    assert pod["enableServiceLinks"] is False and "hostNetwork" not in pod and "hostIPC" not in pod
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["nodeSelector"] == {"eks.amazonaws.com/nodegroup": "h100"}
    assert any(t["key"] == "nvidia.com/gpu" for t in pod["tolerations"])
    engine = YAML(typ="safe").load(by_kind(files, "ConfigMap", "chat")["data"]["engine.yaml"])
    assert engine["tensorParallelSize"] == int(limits["nvidia.com/gpu"])
    assert engine["model"] == "hf://meta-llama/Llama-3.1-70B-Instruct"


def test_single_gpu_model_has_no_shm_and_cpu_model_avoids_gpu_nodes() -> None:
    files = files_for("hybrid")
    vision = by_kind(files, "Deployment", "vision")["spec"]["template"]["spec"]
    assert vision["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    fraud = by_kind(files, "Deployment", "fraud")["spec"]["template"]["spec"]
    assert "nvidia.com/gpu" not in fraud["containers"][0]["resources"]["limits"]
    assert "tolerations" not in fraud
    terms = fraud["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    keys = {e["key"]: e["operator"] for e in terms["nodeSelectorTerms"][0]["matchExpressions"]}
    assert keys["nvidia.com/gpu.present"] == "DoesNotExist"


def test_triton_model_repository() -> None:
    files = files_for("hybrid")
    config = by_kind(files, "ConfigMap", "fraud")["data"]["config.pbtxt"]
    assert 'backend: "fil"' in config and "KIND_CPU" in config
    embed = by_kind(files, "ConfigMap", "embed")["data"]["config.pbtxt"]
    assert 'backend: "onnxruntime"' in embed and "KIND_GPU" in embed and "dynamic_batching" in embed
    pod = by_kind(files, "Deployment", "embed")["spec"]["template"]["spec"]
    ports = {p["name"]: p["containerPort"] for p in pod["containers"][0]["ports"]}
    assert ports == {"http": 8000, "grpc": 8001, "metrics": 8002}
    assert pod["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    fetch = pod["initContainers"][0]["command"]
    assert fetch[0] == "stackgen-runtime-fetch"
    assert fetch[fetch.index("--source") + 1] == "hf://BAAI/bge-large-en-v1.5"
    assert fetch[fetch.index("--dest") + 1] == "/models/embed"


def test_kserve_platform() -> None:
    files = files_for("platform")
    isvc = by_kind(files, "InferenceService", "assistant")
    predictor = isvc["spec"]["predictor"]
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Serverless"
    assert int(isvc["metadata"]["annotations"]["serving.knative.dev/progress-deadline"][:-1]) >= 600
    assert predictor["model"]["runtime"] == "stackgen-vllm"
    assert predictor["minReplicas"] == 0 and predictor["canaryTrafficPercent"] == 10
    assert predictor["model"]["storageUri"] == "hf://Qwen/Qwen3-32B"
    assert predictor["nodeSelector"] == {"kubernetes.azure.com/agentpool": "h100"}
    runtimes = {o["metadata"]["name"] for _, o in objects(files) if o["kind"] == "ServingRuntime"}
    assert runtimes == {"stackgen-vllm", "stackgen-triton"}
    embed = by_kind(files, "InferenceService", "embedder")["spec"]["predictor"]["model"]
    assert (embed["runtime"], embed["modelFormat"]["name"]) == ("stackgen-triton", "onnx")


MULTI_NODE = """\
apiVersion: stackgen.dev/v1alpha1
kind: Stack
metadata: {name: big}
spec:
  cluster:
    provider: gke
    nodePools:
      - {name: h100, gpu: h100-80gb, nodes: 4, gpusPerNode: 8}
      - {name: mig, gpu: a100-80gb, nodes: 1, gpusPerNode: 7, mig: 1g.10gb}
  models:
    - {name: llama405, source: "hf://meta-llama/Llama-3.1-405B-Instruct", kind: llm, maxModelLen: 8192}
    - {name: resnet, source: "pvc://models/resnet50", kind: vision, framework: onnx, nodePool: mig}
"""


def test_multi_node_leader_worker_set_and_mig(tmp_path: Path) -> None:
    path = tmp_path / "stackgen.yaml"
    path.write_text(MULTI_NODE)
    stack = load_stack(path)
    files = render_files(stack, decide(stack, stack_facts(stack, tmp_path)))
    lws = by_kind(files, "LeaderWorkerSet", "llama405")
    template = lws["spec"]["leaderWorkerTemplate"]
    assert template["size"] == 2  # pipeline parallel across two nodes
    leader = template["leaderTemplate"]["spec"]["containers"][0]
    worker = template["workerTemplate"]["spec"]["containers"][0]
    assert leader["resources"]["limits"]["nvidia.com/gpu"] == "8" == worker["resources"]["limits"]["nvidia.com/gpu"]
    assert "ray start --head" in leader["command"][-1] and "LWS_LEADER_ADDRESS" in worker["command"][-1]
    assert any(v["name"] == "dshm" for v in template["leaderTemplate"]["spec"]["volumes"])
    engine = YAML(typ="safe").load(by_kind(files, "ConfigMap", "llama405")["data"]["engine.yaml"])
    assert (engine["tensorParallelSize"], engine["pipelineParallelSize"], engine["nodes"]) == (8, 2, 2)
    service = by_kind(files, "Service", "llama405")
    assert service["spec"]["selector"]["leaderworkerset.sigs.k8s.io/worker-index"] == "0"
    resnet = by_kind(files, "Deployment", "resnet")["spec"]["template"]["spec"]
    assert resnet["containers"][0]["resources"]["limits"]["nvidia.com/mig-1g.10gb"] == "1"
    mount = next(m for m in resnet["containers"][0]["volumeMounts"] if m["name"] == "model-source")
    assert (mount["subPath"], mount["readOnly"]) == ("resnet50", True)


def test_keda_and_service_monitor_options_validate_against_their_crds(tmp_path: Path, crd_schemas) -> None:
    text = (ROOT / "examples/llm-only/stackgen.yaml").read_text() + \
        "  render: {autoscaler: keda, serviceMonitor: true, storageClass: fast-rwx}\n"
    path = tmp_path / "stackgen.yaml"
    path.write_text(text)
    stack = load_stack(path)
    files = render_files(stack, decide(stack, stack_facts(stack, tmp_path)))
    kinds = {o["kind"] for _, o in objects(files)}
    assert {"ScaledObject", "ServiceMonitor"} <= kinds and "HorizontalPodAutoscaler" not in kinds
    scaled = by_kind(files, "ScaledObject", "llama-chat")
    trigger = scaled["spec"]["triggers"][0]
    assert trigger["type"] == "prometheus" and "vllm:num_requests_running" in trigger["metadata"]["query"]
    assert scaled["spec"]["scaleTargetRef"]["name"] == by_kind(files, "Deployment", "llama-chat")["metadata"]["name"]
    assert by_kind(files, "PersistentVolumeClaim", "llama-chat")["spec"]["storageClassName"] == "fast-rwx"
    checked = set()
    for _, obj in objects(files):
        group, _, version = obj["apiVersion"].rpartition("/")
        validator = crd_schemas.get((group, version, obj["kind"]))
        if validator is not None:
            assert [e.message for e in validator.iter_errors(obj)] == [], obj["kind"]
            checked.add(obj["kind"])
        else:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    assert {"ScaledObject", "ServiceMonitor"} <= checked  # their CRDs did validate them


def test_every_server_profile_has_the_builder_it_names_and_a_missing_one_fails_loudly(monkeypatch):
    """profiles/servers/ names each server's render builder; one render lacks is a RenderError
    naming the server before any file is written, never a silent fallback to another server."""
    from stackgen.catalog.servers import load_servers
    import importlib

    from stackgen.render.engine import RenderError

    build_mod = importlib.import_module("stackgen.render.build")

    named = {s.builder for s in load_servers().values() if s.builder}
    assert named and named <= set(build_mod.BUILDERS)
    path = ROOT / "examples" / "hybrid" / "stackgen.yaml"
    stack = load_stack(path)
    plan = decide(stack, stack_facts(stack, path.parent))
    monkeypatch.setitem(build_mod.BUILDERS, "triton", None)
    with pytest.raises(RenderError, match="server triton has no render builder"):
        render_files(stack, plan)


def _render_text(text: str, tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "stackgen.yaml"
    path.write_text(text)
    stack = load_stack(path)
    return render_files(stack, decide(stack, stack_facts(stack, tmp_path)))


def _platform(canary: bool, scale_to_zero: bool) -> str:
    text = (ROOT / "examples" / "platform" / "stackgen.yaml").read_text()
    if not canary:
        text = "\n".join(line for line in text.splitlines() if "canary" not in line)
    return text.replace("scaleToZero: true", f"scaleToZero: {str(scale_to_zero).lower()}")


def test_kserve_standard_mode_scales_on_the_engine_metric_through_keda(tmp_path: Path) -> None:
    """KServe's Standard mode ignores scaleMetric: concurrency and builds a CPU HPA (seen with
    the real controller, tests/cluster/test_controllers.py): ask for KEDA on vLLM's metric."""
    files = _render_text(_platform(canary=False, scale_to_zero=False), tmp_path)
    path = tmp_path / "stackgen.yaml"
    plan = {m.name: m for m in decide(load_stack(path), stack_facts(load_stack(path), tmp_path)).models}
    isvc = by_kind(files, "InferenceService", "assistant")
    notes = isvc["metadata"]["annotations"]
    assert notes["serving.kserve.io/deploymentMode"] == "Standard"
    assert notes["serving.kserve.io/autoscalerClass"] == "keda"
    predictor = isvc["spec"]["predictor"]
    assert "scaleMetric" not in predictor and "scaleTarget" not in predictor
    (metric,) = predictor["autoScaling"]["metrics"]
    assert metric["type"] == "External"
    assert metric["external"]["metric"]["query"] == \
        'sum(vllm:num_requests_running{namespace="ml-platform",model_name="platform-assistant"})'
    assert metric["external"]["target"] == {
        "type": "Value", "value": str(plan["assistant"].autoscale_concurrency)}
    fixed = by_kind(files, "InferenceService", "reranker")  # one replica: nothing to scale
    assert plan["reranker"].replicas_min == plan["reranker"].replicas_max
    assert fixed["metadata"]["annotations"]["serving.kserve.io/autoscalerClass"] == "none"
    assert "autoScaling" not in fixed["spec"]["predictor"]


def test_kserve_canary_needs_serverless_mode_even_without_scale_to_zero(tmp_path: Path) -> None:
    """KServe splits traffic for canaryTrafficPercent in Serverless mode only."""
    files = _render_text(_platform(canary=True, scale_to_zero=False), tmp_path)
    canary = by_kind(files, "InferenceService", "assistant")
    assert canary["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Serverless"
    assert canary["spec"]["predictor"]["canaryTrafficPercent"] == 10
    assert canary["spec"]["predictor"]["scaleMetric"] == "concurrency"
    other = by_kind(files, "InferenceService", "summarizer")
    assert other["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"


def test_hpa_scale_up_period_stays_within_what_the_apiserver_accepts(tmp_path: Path) -> None:
    """A 405B model's cold start is over 30 minutes; the apiserver refuses a scaling policy
    period above 1800 s (found applying it to the real apiserver)."""
    files = _render_text(MULTI_NODE, tmp_path)
    path = tmp_path / "stackgen.yaml"
    (model,) = [m for m in decide(load_stack(path), stack_facts(load_stack(path), tmp_path)).models
                if m.name == "llama405"]
    assert model.cold_start_seconds > 1800
    hpa = by_kind(files, "HorizontalPodAutoscaler", "llama405")
    (policy,) = hpa["spec"]["behavior"]["scaleUp"]["policies"]
    assert policy["periodSeconds"] == 1800


def _containers(obj: dict) -> list[tuple[str, dict]]:
    spec = obj["spec"]["template"]["spec"] if obj["kind"] == "Deployment" else \
        obj["spec"]["leaderWorkerTemplate"]["workerTemplate"]["spec"]
    return [("init", c) for c in spec.get("initContainers", [])] + \
        [("main", c) for c in spec["containers"]]


@pytest.mark.parametrize("example", ["llm-only", "hybrid"])
def test_hardening_that_kube_linter_checks_by_default(example: str) -> None:
    """Read-only root filesystems (every path the servers write is a volume: HOME=/tmp),
    PDBs that let a drain evict pods still loading a model, replicas spread across nodes
    where they can be, and the Hub token only where something downloads from the Hub."""
    files = files_for(example)
    plan = {m.name: m for m in _plan(example).models}
    for rel, obj in objects(files):
        model = rel.split("/")[1] if rel.startswith("models/") else None
        if obj["kind"] == "PodDisruptionBudget":
            assert obj["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow", rel
        if obj["kind"] not in ("Deployment", "LeaderWorkerSet"):
            continue
        if obj["kind"] == "Deployment" and plan[model].replicas_max > 1:  # no-anti-affinity
            spec = obj["spec"]["template"]["spec"]
            (term,) = spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
            assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
            assert term["podAffinityTerm"]["labelSelector"]["matchLabels"] == obj["spec"]["selector"]["matchLabels"]
        for role, container in _containers(obj):
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, (rel, container["name"])
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            home = {e["name"]: e.get("value") for e in container.get("env", [])}.get("HOME")
            assert home is None or home in mounts, (rel, container["name"], home)
            has_token = any(e["name"] == "HF_TOKEN" for e in container.get("env", []))
            hub = plan[model].source.startswith("hf://")
            # Triton's server reads the laid-out repository; its init step downloads
            downloads = hub and (plan[model].server == "vllm" or role == "init")
            assert has_token == downloads, (rel, container["name"], plan[model].source)


def _plan(example: str):
    path = ROOT / "examples" / example / "stackgen.yaml"
    stack = load_stack(path)
    return decide(stack, stack_facts(stack, path.parent))


def test_kserve_vllm_served_name_is_the_one_its_scaling_metric_selects(
        tmp_path: Path, capsys, monkeypatch) -> None:
    """The stackgen-vllm ServingRuntime passes --served-model-name {{.Name}}, which the runtime
    applies over the inline settings; vLLM labels its metrics with that name, and KEDA's query
    must select it (it selected the stack's model name, so it would never match)."""
    import json

    from stackgen.runtime import main as runtime

    files = _render_text(_platform(canary=False, scale_to_zero=False), tmp_path)
    runtime_args = next(o for _, o in objects(files) if o["kind"] == "ServingRuntime"
                        and o["metadata"]["name"] == "stackgen-vllm")["spec"]["containers"][0]["args"]
    isvc = by_kind(files, "InferenceService", "assistant")
    name = isvc["metadata"]["name"]
    env = {e["name"]: e.get("value") for e in isvc["spec"]["predictor"]["model"]["env"]}
    settings = json.loads(env["STACKGEN_ENGINE_SETTINGS"])
    settings.update(device="cpu", tensorParallelSize=1)  # this machine has no 4 GPUs
    monkeypatch.setenv("STACKGEN_ENGINE_SETTINGS", json.dumps(settings))
    (tmp_path / "mnt").mkdir()
    (tmp_path / "mnt" / "config.json").write_text("{}")  # what the storage initializer fetched
    args = [a.replace("{{.Name}}", name).replace("/mnt/models", str(tmp_path / "mnt"))
            for a in runtime_args]
    assert runtime.main([*args, "--dry-run"]) == 0
    served = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["servedModelName"]
    assert served == name == json.loads(env["STACKGEN_ENGINE_SETTINGS"])["servedModelName"]
    query = isvc["spec"]["predictor"]["autoScaling"]["metrics"][0]["external"]["metric"]["query"]
    assert f'model_name="{served}"' in query


SHARED_CACHE = """\
apiVersion: stackgen.dev/v1alpha1
kind: Stack
metadata: {{name: cache}}
spec:
  cluster:
    provider: {provider}
    nodePools:
      - {{name: l4, gpu: l4-24gb, nodes: 4, gpusPerNode: 1}}
  models:
    - {{name: chat, source: "hf://meta-llama/Llama-3.2-1B-Instruct", kind: llm, replicas: {replicas}}}
{render}"""


@pytest.mark.parametrize("provider,replicas,render,access,klass,warned", [
    ("aks", "{min: 1, max: 3}", "", "ReadWriteMany", "azurefile-csi", False),
    ("gke", "{min: 1, max: 3}", "", "ReadWriteMany", "standard-rwx", False),
    ("eks", "{min: 1, max: 3}", "", "ReadWriteMany", None, True),
    ("eks", "{min: 1, max: 3}", "  render: {storageClass: efs-sc}\n", "ReadWriteMany", "efs-sc", False),
    ("eks", "1", "", "ReadWriteOnce", None, False),
])
def test_a_shared_model_cache_gets_a_class_that_can_share_or_a_warning(
        tmp_path: Path, provider, replicas, render, access, klass, warned) -> None:
    """A cluster's default class is usually a block disk one node mounts at a time: a cache
    several replicas share needs a ReadWriteMany class, or its claim stays Pending."""
    text = SHARED_CACHE.format(provider=provider, replicas=replicas, render=render)
    files = _render_text(text, tmp_path)
    pvc = by_kind(files, "PersistentVolumeClaim", "chat")
    assert pvc["spec"]["accessModes"] == [access]
    assert pvc["spec"].get("storageClassName") == klass
    stack = load_stack(tmp_path / "stackgen.yaml")
    codes = {w.code for w in decide(stack, stack_facts(stack, tmp_path)).warnings}
    assert ("rwx-storage-class-missing" in codes) == warned


@pytest.mark.parametrize("nodes,replicas,surge", [(1, 2, 0), (2, 2, 1), (1, "{min: 1, max: 2}", 0),
                                                  (1, 1, 1)])
def test_rollout_surges_only_where_the_pool_has_room_at_peak(tmp_path: Path, nodes, replicas, surge) -> None:
    text = f"""\
apiVersion: stackgen.dev/v1alpha1
kind: Stack
metadata: {{name: roll}}
spec:
  cluster:
    provider: generic
    nodePools:
      - {{name: l4, gpu: l4-24gb, nodes: {nodes}, gpusPerNode: 2}}
  models:
    - {{name: chat, source: "hf://meta-llama/Llama-3.2-1B-Instruct", kind: llm, replicas: {replicas}}}
"""
    rolling = by_kind(_render_text(text, tmp_path), "Deployment", "chat")["spec"]["strategy"]["rollingUpdate"]
    assert rolling == {"maxSurge": surge, "maxUnavailable": 1 - surge}
