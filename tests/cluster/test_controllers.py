"""The KServe and multi-node rows, reconciled by the real controllers: KServe's manager
(v0.17, its admission webhooks served with the sandbox CA) and the LeaderWorkerSet
controller (v0.8), both built from the Go module proxy like the control plane and started
by `stackgen sandbox up`, with kube-scheduler placing the pods on kwok GPU nodes that mirror
the stacks' pools."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stackgen.spec import load_stack

ROOT = Path(__file__).resolve().parents[2]
STACKGEN = [sys.executable, "-m", "stackgen.cli.main"]

# A three-team platform with no canary and no scale-to-zero: KServe in Standard mode.
STANDARD = """\
apiVersion: stackgen.dev/v1alpha1
kind: Stack
metadata: {name: teams, namespace: teams}
spec:
  cluster:
    provider: aks
    nodePools:
      - {name: h100, gpu: h100-80gb, nodes: 2, gpusPerNode: 8}
      - {name: l4, gpu: l4-24gb, nodes: 3, gpusPerNode: 1}
  models:
    - name: assistant
      source: hf://Qwen/Qwen2.5-32B-Instruct
      kind: llm
      team: search
      traffic: {peakRps: 8, avgInputTokens: 2048, avgOutputTokens: 512}
      slo: {ttftMs: 1500}
    - {name: summarizer, source: "hf://meta-llama/Llama-3.1-8B-Instruct", kind: llm, team: docs,
       traffic: {peakRps: 2}}
    - {name: embedder, source: "hf://BAAI/bge-base-en-v1.5", kind: embedding, framework: onnx,
       team: search, traffic: {peakRps: 100}}
  requirements: {teams: 3}
"""

# A model larger than one 8-GPU node: a LeaderWorkerSet group spanning two nodes.
MULTINODE = """\
apiVersion: stackgen.dev/v1alpha1
kind: Stack
metadata: {name: big, namespace: big}
spec:
  cluster:
    provider: aks
    nodePools:
      - {name: nd, gpu: h100-80gb, nodes: 4, gpusPerNode: 8}
  models:
    - {name: llama405, source: "hf://meta-llama/Llama-3.1-405B-Instruct", kind: llm,
       traffic: {peakRps: 1}}
"""

POOL_LABEL = "kubernetes.azure.com/agentpool"


def cli(*args: str, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*STACKGEN, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})


def _plan(stack_file: Path):
    from stackgen.catalog import stack_facts
    from stackgen.decide import decide

    stack = load_stack(stack_file)
    return decide(stack, stack_facts(stack, stack_file.parent))


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """`stackgen sandbox up` (detached, controllers included) with the pools of both stacks."""
    from .conftest import require_controllers

    require_controllers()
    work = tmp_path_factory.mktemp("controllers")
    pools = yaml.safe_load(STANDARD)["spec"]["cluster"]["nodePools"] + \
        yaml.safe_load(MULTINODE)["spec"]["cluster"]["nodePools"]
    stack = yaml.safe_load(STANDARD)
    stack["spec"]["cluster"]["nodePools"] = pools
    (work / "sandbox.yaml").write_text(yaml.safe_dump(stack))
    env = {"STACKGEN_SANDBOX_DIR": str(work / "state")}
    up = cli("sandbox", "up", "-f", str(work / "sandbox.yaml"), env=env)
    assert up.returncode == 0, up.stderr
    kubeconfig = up.stdout.strip().splitlines()[-1]
    from stackgen.cluster.kube import Kube

    kube = Kube(kubeconfig)  # what a user creates before applying: the namespace's token
    kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                       "metadata": {"name": "teams"}})
    kube.create("/api/v1/namespaces/teams/secrets", {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hf-token"},
        "stringData": {"HF_TOKEN": "hf_test", "token": "hf_test"}})
    try:
        yield {"kubeconfig": kubeconfig, "work": work}
    finally:
        state = json.loads((work / "state" / "state.json").read_text())
        down = cli("sandbox", "down", env=env)
        assert down.returncode == 0, down.stderr
        assert {"kserve-manager", "lws-controller"} <= set(state["processes"])


def get(sandbox, path: str, **query: str) -> dict:
    from stackgen.cluster.kube import Kube

    return Kube(sandbox["kubeconfig"]).request("GET", path, query=query or None) or {}


def render(sandbox, text: str, name: str) -> tuple[Path, Path]:
    folder = sandbox["work"] / name
    folder.mkdir(exist_ok=True)
    (folder / "stackgen.yaml").write_text(text)
    proc = cli("render", "-q", "--force", "-f", str(folder / "stackgen.yaml"), "-o", str(folder / "out"))
    assert proc.returncode == 0, proc.stderr
    return folder / "stackgen.yaml", folder / "out"


def apply(sandbox, folder: Path, *extra: str) -> subprocess.CompletedProcess:
    return cli("apply", str(folder), "--kubeconfig", sandbox["kubeconfig"], *extra)


def node_pools(sandbox) -> dict[str, str]:
    return {n["metadata"]["name"]: n["metadata"]["labels"].get(POOL_LABEL, "")
            for n in get(sandbox, "/api/v1/nodes")["items"]}


def test_kserve_standard_stack_is_reconciled_ready_on_its_pools(sandbox) -> None:
    stack_file, folder = render(sandbox, STANDARD, "standard")
    proc = apply(sandbox, folder, "--timeout", "180")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "rollout complete" in proc.stderr
    plan = {m.name: m for m in _plan(stack_file).models}
    pools = node_pools(sandbox)
    isvcs = {i["metadata"]["name"]: i for i in get(
        sandbox, "/apis/serving.kserve.io/v1beta1/namespaces/teams/inferenceservices")["items"]}
    assert set(isvcs) == {f"teams-{m}" for m in plan}
    for name, model in plan.items():
        isvc = isvcs[f"teams-{name}"]
        conditions = {c["type"]: c["status"] for c in isvc["status"]["conditions"]}
        assert conditions["Ready"] == "True" and conditions["PredictorReady"] == "True", conditions
        # KServe's own Deployment, built from our predictor: the plan's GPUs on the plan's pool
        deployment = get(sandbox, f"/apis/apps/v1/namespaces/teams/deployments/teams-{name}-predictor")
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["resources"]["limits"]["nvidia.com/gpu"] == str(model.gpus_per_replica)
        pods = get(sandbox, "/api/v1/namespaces/teams/pods",
                   labelSelector=f"serving.kserve.io/inferenceservice=teams-{name}")["items"]
        assert pods and all(p["status"]["phase"] == "Running" for p in pods)
        assert {pools[p["spec"]["nodeName"]] for p in pods} == {model.node_pool}
        # the webhook's pod mutation: the storage initializer fetches storageUri, with the
        # Hugging Face token from the storage secret stackgen names
        (init,) = [c for c in pods[0]["spec"].get("initContainers", []) if c["name"] == "storage-initializer"]
        token = {e["name"]: e.get("valueFrom") for e in init.get("env", [])}.get("HF_TOKEN")
        assert token == {"secretKeyRef": {"name": "hf-token", "key": "HF_TOKEN"}}, init.get("env")


def test_kserve_standard_scales_on_the_engine_metric_through_keda(sandbox) -> None:
    """Standard mode drops `scaleMetric: concurrency` and scales on CPU; stackgen asks KServe
    for KEDA on the engine's own metric, and KServe's ScaledObject carries the plan's target."""
    stack_file, folder = render(sandbox, STANDARD, "standard")
    proc = apply(sandbox, folder, "--no-wait")
    assert proc.returncode == 0, proc.stderr
    plan = {m.name: m for m in _plan(stack_file).models}
    scaled = {s["metadata"]["name"]: s["spec"] for s in get(
        sandbox, "/apis/keda.sh/v1alpha1/namespaces/teams/scaledobjects")["items"]}
    assistant = scaled["teams-assistant-predictor"]
    (trigger,) = assistant["triggers"]
    assert trigger["type"] == "prometheus"
    assert 'vllm:num_requests_running{namespace="teams",model_name="teams-assistant"}' in trigger["metadata"]["query"]
    assert trigger["metadata"]["threshold"] == str(plan["assistant"].autoscale_concurrency)
    assert assistant["maxReplicaCount"] == plan["assistant"].replicas_max
    hpas = get(sandbox, "/apis/autoscaling/v2/namespaces/teams/horizontalpodautoscalers")["items"]
    cpu = [h["metadata"]["name"] for h in hpas
           if any((m.get("resource") or {}).get("name") == "cpu" for m in h["spec"].get("metrics", []))]
    assert cpu == [], f"KServe scales these on CPU utilisation: {cpu}"


def test_kserve_admission_webhook_refusals_are_reported_as_such(sandbox, tmp_path: Path) -> None:
    """The real validating webhook refuses an unsupported autoscaler class; apply says the
    webhook refused it (no RBAC advice: no permission would change the answer)."""
    _, folder = render(sandbox, STANDARD, "standard")
    bad = tmp_path / "bad"
    subprocess.run(["cp", "-r", str(folder), str(bad)], check=True)
    path = bad / "models" / "summarizer" / "inferenceservice.yaml"
    obj = yaml.safe_load(path.read_text())
    obj["metadata"]["annotations"]["serving.kserve.io/autoscalerClass"] = "vpa"
    path.write_text(yaml.safe_dump(obj))
    proc = apply(sandbox, bad, "--no-wait")
    assert proc.returncode == 1
    assert "refused by an admission webhook" in proc.stderr
    assert "[vpa] is not a supported autoscaler class type" in proc.stderr
    assert "RBAC" not in proc.stderr


def test_serverless_example_is_refused_before_apply_without_knative(sandbox) -> None:
    """The platform example needs canary and scale-to-zero, so Serverless mode: without
    Knative Serving KServe would accept it and never make it Ready (ServerlessModeRejected)."""
    proc = apply(sandbox, ROOT / "tests" / "golden" / "platform", "--timeout", "30")
    assert proc.returncode == 1
    assert "serves no Knative Services" in proc.stderr and "install Knative Serving" in proc.stderr
    assert get(sandbox, "/apis/serving.kserve.io/v1beta1/namespaces/ml-platform/inferenceservices",
               ).get("items", []) == []  # nothing applied


def test_multinode_group_spans_nodes_of_its_pool(sandbox) -> None:
    stack_file, folder = render(sandbox, MULTINODE, "multinode")
    (model,) = _plan(stack_file).models
    assert model.multi_node and model.pipeline_parallel_size > 1
    proc = apply(sandbox, folder, "--timeout", "180")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    lws = get(sandbox, "/apis/leaderworkerset.x-k8s.io/v1/namespaces/big/leaderworkersets/big-llama405")
    assert {c["type"]: c["status"] for c in lws["status"]["conditions"]}["Available"] == "True"
    pods = get(sandbox, "/api/v1/namespaces/big/pods",
               labelSelector="leaderworkerset.sigs.k8s.io/name=big-llama405")["items"]
    assert len(pods) == model.pipeline_parallel_size * lws["spec"]["replicas"]
    pools = node_pools(sandbox)
    assert all(p["status"]["phase"] == "Running" for p in pods)
    assert {pools[p["spec"]["nodeName"]] for p in pods} == {"nd"}
    assert len({p["spec"]["nodeName"] for p in pods}) == len(pods)  # one node per group member
    # the LWS pod webhook tells each member where its leader is (the runtime joins it there)
    for pod in pods:
        env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0].get("env", [])}
        assert env["LWS_LEADER_ADDRESS"] == "big-llama405-0.big-llama405.big"
        assert env["LWS_GROUP_SIZE"] == str(model.pipeline_parallel_size)


GHOST = """\
apiVersion: stackgen.dev/v1alpha1
kind: Stack
metadata: {name: ghost, namespace: teams}
spec:
  cluster:
    provider: aks
    nodePools:
      - {name: absent, gpu: l4-24gb, nodes: 1, gpusPerNode: 1}
  models:
    - {name: embed, source: "hf://BAAI/bge-base-en-v1.5", kind: embedding, framework: onnx,
       traffic: {peakRps: 10}}
  requirements: {teams: 3}
"""


def test_a_missing_storage_secret_is_named_before_kserve_withholds_the_pods(sandbox) -> None:
    text = STANDARD.replace("namespace: teams", "namespace: notoken").replace(
        "name: teams", "name: notoken")
    _, folder = render(sandbox, text, "notoken")
    proc = apply(sandbox, folder, "--timeout", "15")
    assert "storage secret notoken/hf-token does not exist" in proc.stderr, proc.stderr
    assert "kubectl create secret generic hf-token -n notoken" in proc.stderr
    assert proc.returncode == 1  # KServe's pod webhook refuses every pod meanwhile
    pods = get(sandbox, "/api/v1/namespaces/notoken/pods")["items"]
    assert pods == []


def test_wait_reports_the_controllers_conditions(sandbox) -> None:
    """An InferenceService whose pool is not in the cluster: the wait names KServe's
    condition and the scheduler's reason, not only 0/1."""
    _, folder = render(sandbox, GHOST, "ghost")
    proc = apply(sandbox, folder, "--timeout", "20")
    assert proc.returncode == 1
    assert "InferenceService/ghost-embed: 0/1 ready (PredictorReady=" in proc.stderr, proc.stderr
    assert "is Pending: 0/" in proc.stderr and "node affinity/selector" in proc.stderr
