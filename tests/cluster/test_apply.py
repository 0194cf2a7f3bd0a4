"""`stackgen apply` / `delete` against the real local control plane: kube-apiserver, etcd,
kube-scheduler, kube-controller-manager and kwok GPU nodes mirroring each stack's pools."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from stackgen.cluster.stack_nodes import add_sandbox_volumes, kwok_pools, storage_classes
from stackgen.spec import load_stack

ROOT = Path(__file__).resolve().parents[2]
STACKGEN = [sys.executable, "-m", "stackgen.cli.main"]


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*STACKGEN, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def cluster():
    """A control plane of its own whose kwok nodes mirror every example's pools (the shared
    one's test pools reuse pool names such as h100-pool), with volumes for model caches."""
    from stackgen.cluster.controlplane import ControlPlane

    from .conftest import require_binaries

    require_binaries()
    stacks = [load_stack(ROOT / "examples" / e / "stackgen.yaml")
              for e in ("llm-only", "hybrid", "platform")]
    pools = [p for stack in stacks for p in kwok_pools(stack)]
    with ControlPlane(pools) as plane:
        add_sandbox_volumes(str(plane.kubeconfig), count=24,
                            classes=set().union(*map(storage_classes, stacks)))
        yield plane


def kubectl_json(plane, *args: str) -> dict:
    from kubernetes import config

    api = config.new_client_from_config(config_file=str(plane.kubeconfig))
    try:
        path = "/" + "/".join(args)
        resp = api.call_api(*api.param_serialize("GET", path, auth_settings=["BearerToken"],
                                                 header_params={"Accept": "application/json"}))
        return json.loads(resp.read())
    finally:
        api.close()


def render(stack_text: str, tmp_path: Path, name: str = "deploy") -> Path:
    stack_file = tmp_path / "stackgen.yaml"
    stack_file.write_text(stack_text)
    out = tmp_path / name
    proc = cli("render", "-q", "--force", "-f", str(stack_file), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def apply(plane, folder: Path, *extra: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return cli("apply", str(folder), "--kubeconfig", str(plane.kubeconfig), *extra, timeout=timeout)


def pods_by_node_pool(plane, namespace: str, instance: str) -> list[tuple[str, dict]]:
    pods = kubectl_json(plane, "api", "v1", "namespaces", namespace, "pods")["items"]
    nodes = {n["metadata"]["name"]: n["metadata"]["labels"]
             for n in kubectl_json(plane, "api", "v1", "nodes")["items"]}
    return [(p["status"].get("phase"), nodes.get(p["spec"].get("nodeName"), {}))
            for p in pods if p["metadata"]["labels"].get("app.kubernetes.io/instance") == instance]


@pytest.mark.parametrize("example", ["llm-only", "hybrid"])
def test_example_applies_schedules_on_its_pools_and_reapplies_unchanged(cluster, example) -> None:
    folder = ROOT / "tests" / "golden" / example
    first = apply(cluster, folder, "--timeout", "120")
    assert first.returncode == 0, first.stderr + first.stdout
    assert "rollout complete" in first.stderr
    stack = load_stack(ROOT / "examples" / example / "stackgen.yaml")
    pool_label = "eks.amazonaws.com/nodegroup" if stack.spec.cluster.provider == "eks" else \
        "cloud.google.com/gke-nodepool"
    for model in stack.spec.models:
        placed = pods_by_node_pool(cluster, stack.namespace, f"{stack.name}-{model.name}")
        assert placed, f"no pods for {model.name}"
        for phase, labels in placed:
            assert phase == "Running"
            expected = next(m.node_pool for m in _plan(example).models if m.name == model.name)
            assert labels.get(pool_label) == expected, (model.name, labels)
            if expected == "cpu":
                assert "nvidia.com/gpu.present" not in labels
    again = apply(cluster, folder, "--no-wait")
    assert again.returncode == 0, again.stderr
    assert "0 created, 0 configured" in again.stderr
    assert "configured" not in again.stdout and "created" not in again.stdout


def _plan(example: str):
    from stackgen.catalog import stack_facts
    from stackgen.decide import decide

    path = ROOT / "examples" / example / "stackgen.yaml"
    stack = load_stack(path)
    return decide(stack, stack_facts(stack, path.parent))


def test_kserve_objects_apply_with_crds_alone(cluster, tmp_path: Path) -> None:
    """KServe's CRDs without its controller (tests/cluster/test_controllers.py runs it): the
    objects are admitted and the wait says that nothing reconciles them."""
    text = (ROOT / "examples" / "platform" / "stackgen.yaml").read_text()
    standard = "\n".join(line for line in text.splitlines() if "canary" not in line)
    folder = render(standard.replace("scaleToZero: true", "scaleToZero: false"), tmp_path)
    proc = apply(cluster, folder, "--timeout", "60")
    assert proc.returncode == 0, proc.stderr
    assert "InferenceService/platform-assistant (ml-platform) created" in proc.stdout
    assert "no controller reconciles it here" in proc.stderr


def test_dry_run_changes_nothing(cluster, tmp_path: Path) -> None:
    text = (ROOT / "examples/llm-only/stackgen.yaml").read_text().replace("name: chat\n", "name: dry\n", 1)
    folder = render(text, tmp_path)
    proc = apply(cluster, folder, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "created (dry run)" in proc.stdout
    deployments = kubectl_json(cluster, "apis", "apps", "v1", "namespaces", "ml-serving", "deployments")
    assert not [d for d in deployments["items"] if d["metadata"]["name"].startswith("dry-")]


def test_prune_removes_only_what_stackgen_applied(cluster, tmp_path: Path) -> None:
    text = (ROOT / "examples/hybrid/stackgen.yaml").read_text().replace("name: hybrid", "name: prune")
    text = text.replace("namespace: ml-serving", "namespace: prune-test")
    folder = render(text, tmp_path)
    assert apply(cluster, folder, "--no-wait").returncode == 0
    lookalike = {"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": "prune-vision-extra", "namespace": "prune-test",
                              "labels": {"app.kubernetes.io/managed-by": "stackgen",
                                         "app.kubernetes.io/part-of": "prune",
                                         "app.kubernetes.io/name": "vision"}},
                 "data": {"a": "b"}}
    look_file = tmp_path / "lookalike.yaml"
    look_file.write_text(yaml.safe_dump(lookalike))
    subprocess.run(["kubectl", "--kubeconfig", str(cluster.kubeconfig), "apply", "-f", str(look_file)],
                   check=True, capture_output=True)
    start, end = text.index("    - name: vision"), text.index("    - name: fraud")
    folder = render(text[:start] + text[end:], tmp_path)
    proc = apply(cluster, folder, "--prune", "--no-wait")
    assert proc.returncode == 0, proc.stderr
    assert "Deployment/prune-vision (prune-test) pruned" in proc.stdout
    names = {c["metadata"]["name"] for c in kubectl_json(
        cluster, "api", "v1", "namespaces", "prune-test", "configmaps")["items"]}
    assert "prune-vision-repository" not in names and "prune-vision-extra" in names
    deleted = cli("delete", str(folder), "--kubeconfig", str(cluster.kubeconfig))
    assert deleted.returncode == 0, deleted.stderr
    left = kubectl_json(cluster, "api", "v1", "namespaces", "prune-test", "configmaps")["items"]
    assert {c["metadata"]["name"] for c in left} <= {"prune-vision-extra", "kube-root-ca.crt"}
    assert "prune-vision-extra" in {c["metadata"]["name"] for c in left}
    deployments = kubectl_json(cluster, "apis", "apps", "v1", "namespaces", "prune-test", "deployments")
    assert deployments["items"] == []


NO_CAPACITY = """\
apiVersion: stackgen.dev/v1alpha1
kind: Stack
metadata: {name: tight, namespace: tight}
spec:
  cluster:
    provider: eks
    nodePools:
      - {name: tiny, gpu: l4-24gb, nodes: 1, gpusPerNode: 1}
  models:
    - name: chat
      source: hf://meta-llama/Llama-3.2-1B-Instruct
      kind: llm
      replicas: 2
"""


def test_no_capacity_fails_wait_with_the_schedulers_reason(cluster, tmp_path: Path) -> None:
    stack_file = tmp_path / "s.yaml"
    stack_file.write_text(NO_CAPACITY)
    cluster.add_nodes(kwok_pools(load_stack(stack_file)))
    folder = render(NO_CAPACITY, tmp_path)
    proc = apply(cluster, folder, "--timeout", "25")
    assert proc.returncode == 1
    assert "1/2 ready" in proc.stderr
    assert "Insufficient nvidia.com/gpu" in proc.stderr


def test_conflicting_field_manager_is_reported_not_overwritten(cluster, tmp_path: Path) -> None:
    text = (ROOT / "examples/llm-only/stackgen.yaml").read_text().replace("name: chat\n", "name: conflict\n", 1)
    text = text.replace("namespace: ml-serving", "namespace: conflict-test")
    folder = render(text, tmp_path)
    assert apply(cluster, folder, "--no-wait").returncode == 0
    patch = tmp_path / "theirs.yaml"
    patch.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "conflict-llama-chat-engine", "namespace": "conflict-test"},
        "data": {"engine.yaml": "model: theirs\n"}}))
    subprocess.run(["kubectl", "--kubeconfig", str(cluster.kubeconfig), "apply", "--server-side",
                    "--force-conflicts", "--field-manager", "someone-else", "-f", str(patch)],
                   check=True, capture_output=True)
    proc = apply(cluster, folder, "--no-wait")
    assert proc.returncode == 1
    assert "conflict" in proc.stderr and "someone-else" in proc.stderr
    cm = kubectl_json(cluster, "api", "v1", "namespaces", "conflict-test", "configmaps",
                      "conflict-llama-chat-engine")
    assert cm["data"]["engine.yaml"] == "model: theirs\n"
    forced = apply(cluster, folder, "--no-wait", "--force-conflicts")
    assert forced.returncode == 0, forced.stderr


def test_apiserver_stopped_mid_apply_then_rerun_converges(cluster, tmp_path: Path) -> None:
    text = (ROOT / "examples/hybrid/stackgen.yaml").read_text().replace("name: hybrid", "name: fault")
    text = text.replace("namespace: ml-serving", "namespace: fault-test")
    folder = render(text, tmp_path)
    proc = subprocess.Popen([*STACKGEN, "apply", str(folder), "--kubeconfig", str(cluster.kubeconfig),
                             "--no-wait", "--no-diff"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    stopper = threading.Timer(1.5, cluster.stop_apiserver)
    stopper.start()
    stopper.join()
    out, err = proc.communicate(timeout=120)
    cluster.start_apiserver()
    rerun = apply(cluster, folder, "--no-wait")
    assert rerun.returncode == 0, rerun.stderr
    objects = [d for p in sorted(folder.rglob("*.yaml")) if "overlays" not in p.parts
               and p.name != "kustomization.yaml" for d in yaml.safe_load_all(p.read_text()) if d]
    for obj in objects:
        if obj["kind"] == "Deployment":
            live = kubectl_json(cluster, "apis", "apps", "v1", "namespaces", "fault-test",
                                "deployments", obj["metadata"]["name"])
            assert live["metadata"]["name"] == obj["metadata"]["name"]
    third = apply(cluster, folder, "--no-wait")
    assert "0 created, 0 configured" in third.stderr
    inventory = kubectl_json(cluster, "api", "v1", "namespaces", "fault-test", "configmaps",
                             "stackgen-inventory-fault")
    refs = json.loads(inventory["data"]["objects.json"])
    assert len(refs) == len({json.dumps(r, sort_keys=True) for r in refs}) == len(objects)


def test_init_discovers_gpu_pools_from_the_cluster(cluster, tmp_path: Path) -> None:
    out = tmp_path / "stackgen.yaml"
    proc = cli("init", "--non-interactive", "--discover", "--kubeconfig", str(cluster.kubeconfig),
               "--set", "name=found", "--set", "models[0].name=chat",
               "--set", "models[0].source=hf://meta-llama/Llama-3.1-8B-Instruct", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    stack = load_stack(out)
    assert stack.spec.cluster.provider == "gke"
    pools = {p.name: p for p in stack.spec.cluster.node_pools}
    h100 = pools["h100-pool"]  # llm-only's GKE pool: 2 kwok nodes with 8 H100s each
    assert (h100.gpu, h100.nodes, h100.gpus) == ("h100-80gb", 2, 8)


def test_bad_credentials_are_a_clear_error(cluster, tmp_path: Path) -> None:
    config = yaml.safe_load(Path(cluster.kubeconfig).read_text())
    config["users"][0]["user"] = {"token": "not-a-valid-token"}
    bad = tmp_path / "kubeconfig"
    bad.write_text(yaml.safe_dump(config))
    proc = cli("apply", str(ROOT / "tests/golden/llm-only"), "--kubeconfig", str(bad), "--no-wait")
    assert proc.returncode == 1
    assert "authentication failed" in proc.stderr and "Traceback" not in proc.stderr
    missing = cli("apply", str(ROOT / "tests/golden/llm-only"), "--kubeconfig", str(bad),
                  "--context", "nope")
    assert missing.returncode == 2 and "kubeconfig" in missing.stderr


UNTOLERATED = """\
apiVersion: stackgen.dev/v1alpha1
kind: Stack
metadata: {name: taint, namespace: taint}
spec:
  cluster:
    provider: generic
    nodePools:
      - name: locked
        gpu: l4-24gb
        nodes: 1
        gpusPerNode: 1
        labels: {pool: locked}
        taints: [{key: dedicated, value: inference, effect: NoSchedule}]
  models:
    - {name: chat, source: "hf://meta-llama/Llama-3.2-1B-Instruct", kind: llm}
"""


def test_untolerated_taint_is_named_on_timeout(cluster, tmp_path: Path) -> None:
    """The pool's nodes carry a taint the rendered pods do not tolerate (the user edited the
    manifests' tolerations away): the timeout names the taint, not only a node count."""
    stack_file = tmp_path / "s.yaml"
    stack_file.write_text(UNTOLERATED)
    cluster.add_nodes(kwok_pools(load_stack(stack_file)))
    folder = render(UNTOLERATED, tmp_path)
    deployment = folder / "models/chat/deployment.yaml"
    obj = yaml.safe_load(deployment.read_text())
    obj["spec"]["template"]["spec"].pop("tolerations")
    deployment.write_text(yaml.safe_dump(obj))
    proc = apply(cluster, folder, "--timeout", "15")
    assert proc.returncode == 1
    assert "untolerated: dedicated=inference:NoSchedule on 1 node(s)" in proc.stderr


SHARED_GPUS = """\
apiVersion: stackgen.dev/v1alpha1
kind: Stack
metadata: {name: shared, namespace: shared}
spec:
  cluster:
    provider: generic
    nodePools:
      - {name: l4-sliced, gpu: l4-24gb, nodes: 1, gpusPerNode: 1, timeSlicing: 4}
      - {name: a100-mig, gpu: a100-80gb, nodes: 1, gpusPerNode: 1, mig: 1g.10gb}
  models:
    - {name: chat, source: "hf://meta-llama/Llama-3.2-1B-Instruct", kind: llm, replicas: 3,
       nodePool: l4-sliced}
    - {name: vision, source: "s3://models/resnet", kind: vision, framework: onnx, replicas: 2,
       nodePool: a100-mig}
"""


def test_time_sliced_and_mig_pools_schedule_more_pods_than_gpus(cluster, tmp_path: Path) -> None:
    """One time-sliced L4 runs 3 replicas and one MIG A100 runs 2 on 1g.10gb instances: the
    nodes carry GPU feature discovery's labels (the L4's product ends in -SHARED) and the
    device plugin's resources, and the rendered selectors and requests must match them."""
    stack_file = tmp_path / "s.yaml"
    stack_file.write_text(SHARED_GPUS)
    cluster.add_nodes(kwok_pools(load_stack(stack_file)))
    folder = render(SHARED_GPUS, tmp_path)
    proc = apply(cluster, folder, "--timeout", "90")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    for model, node, count in (("chat", "l4-sliced-0", 3), ("vision", "a100-mig-0", 2)):
        pods = [p for p in kubectl_json(cluster, "api", "v1", "namespaces", "shared", "pods")["items"]
                if p["metadata"]["labels"].get("app.kubernetes.io/instance") == f"shared-{model}"]
        assert [(p["status"]["phase"], p["spec"]["nodeName"]) for p in pods] == [("Running", node)] * count


FULL_POOL = """\
apiVersion: stackgen.dev/v1alpha1
kind: Stack
metadata: {{name: full, namespace: full}}
spec:
  cluster:
    provider: generic
    nodePools:
      - {{name: full-l4, gpu: l4-24gb, nodes: 1, gpusPerNode: 2, labels: {{pool: full-l4}}}}
  models:
    - {{name: chat, source: "hf://meta-llama/Llama-3.2-1B-Instruct", kind: llm, replicas: 2,
       maxModelLen: {max_len}}}
"""


def test_a_rollout_on_a_full_gpu_pool_completes(cluster, tmp_path: Path) -> None:
    """Two replicas fill the pool's two GPUs. A surge pod (maxSurge 1, maxUnavailable 0) can
    never schedule there, so such a rollout never ends; stackgen replaces one pod at a time."""
    stack_file = tmp_path / "s.yaml"
    stack_file.write_text(FULL_POOL.format(max_len=4096))
    cluster.add_nodes(kwok_pools(load_stack(stack_file)))
    first = render(FULL_POOL.format(max_len=4096), tmp_path, "v1")
    strategy = yaml.safe_load((first / "models/chat/deployment.yaml").read_text())["spec"]["strategy"]
    assert strategy["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    assert apply(cluster, first, "--timeout", "90").returncode == 0
    second = render(FULL_POOL.format(max_len=8192), tmp_path, "v2")  # new settings: a rollout
    proc = apply(cluster, second, "--timeout", "90")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    # the same change with a surge strategy: the new pod waits for a GPU that never frees
    third = render(FULL_POOL.format(max_len=2048), tmp_path, "v3")
    path = third / "models/chat/deployment.yaml"
    obj = yaml.safe_load(path.read_text())
    obj["spec"]["strategy"]["rollingUpdate"] = {"maxSurge": 1, "maxUnavailable": 0}
    path.write_text(yaml.safe_dump(obj))
    stuck = apply(cluster, third, "--timeout", "20")
    assert stuck.returncode == 1
    assert "Insufficient nvidia.com/gpu" in stuck.stderr, stuck.stderr


KNATIVE_SERVICE_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "services.serving.knative.dev"},
    "spec": {"group": "serving.knative.dev", "scope": "Namespaced",
             "names": {"plural": "services", "singular": "service", "kind": "Service"},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                 "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]},
}


def test_a_canary_on_first_install_starts_as_the_stable_model(cluster, tmp_path: Path) -> None:
    """KServe gives a new InferenceService's first revision all the traffic whatever
    canaryTrafficPercent says: the first apply installs the stable model, the next one
    starts the canary at its percentage. (Knative's Service kind is registered so preflight
    passes; no Knative or KServe controller runs in this cluster.)"""
    from stackgen.cluster.controlplane import install_crds

    crds = tmp_path / "crds"
    crds.mkdir()
    (crds / "knative.yaml").write_text(yaml.safe_dump(KNATIVE_SERVICE_CRD))
    install_crds(cluster.kube(), crds)
    text = (ROOT / "examples" / "platform" / "stackgen.yaml").read_text()
    folder = render(text.replace("namespace: ml-platform", "namespace: canary"), tmp_path)
    isvc = "apis/serving.kserve.io/v1beta1/namespaces/canary/inferenceservices/platform-assistant"
    first = apply(cluster, folder, "--no-wait")
    assert first.returncode == 0, first.stderr
    assert "first install, so the stable model (hf://Qwen/Qwen2.5-32B-Instruct)" in first.stderr
    live = kubectl_json(cluster, *isvc.split("/"))["spec"]["predictor"]
    assert live["model"]["storageUri"] == "hf://Qwen/Qwen2.5-32B-Instruct"
    assert "canaryTrafficPercent" not in live
    second = apply(cluster, folder, "--no-wait")
    assert second.returncode == 0, second.stderr
    assert "first install" not in second.stderr
    live = kubectl_json(cluster, *isvc.split("/"))["spec"]["predictor"]
    assert (live["model"]["storageUri"], live["canaryTrafficPercent"]) == ("hf://Qwen/Qwen3-32B", 10)
