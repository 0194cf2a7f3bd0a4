"""Lint throughput: objects/s of `stackgen lint` (schema-only and all rules) beside kubeconform.

    .venv/bin/python benchmarks/lint_throughput.py [--objects 10000] [--no-kubeconform]
        [--kubeconform PATH] [--repeat N]

Writes a corpus of realistic serving manifests (vLLM and Triton workloads, Services,
ConfigMaps, HPAs, PDBs, Ingresses, Jobs...) into a temporary folder, 10 objects a file,
and times each tool on the whole folder with the CPUs this machine has. kubeconform is
installed into a temporary GOPATH with `go install` (pinned version) and given standalone
strict schemas generated from kubernetes-validate's bundled ones (the same schemas
stackgen uses), so both tools check the same thing offline; `--kubeconform PATH` uses a
binary built beforehand instead. `--repeat N` times each tool N times, alternating, and
keeps each one's best run. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KUBECONFORM = "github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0"
ROOT = Path(__file__).resolve().parents[1]
STACKGEN = [sys.executable, "-m", "stackgen.cli.main"]
PER_FILE = 10

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: vllm-{i}
  namespace: serving
  labels: {{app.kubernetes.io/name: vllm-{i}, app.kubernetes.io/managed-by: bench}}
spec:
  replicas: 2
  selector:
    matchLabels: {{app.kubernetes.io/name: vllm-{i}}}
  template:
    metadata:
      labels: {{app.kubernetes.io/name: vllm-{i}}}
    spec:
      enableServiceLinks: false
      nodeSelector: {{nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3}}
      tolerations:
        - {{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}}
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.10.1
          args: ["--model", "meta-llama/Llama-3.1-8B-Instruct", "--tensor-parallel-size", "{tp}", "--port", "8000"]
          env:
            - name: HF_TOKEN
              valueFrom: {{secretKeyRef: {{name: hf-token, key: token}}}}
          ports: [{{name: http, containerPort: 8000}}]
          resources:
            requests: {{cpu: "8", memory: 64Gi, nvidia.com/gpu: {tp}}}
            limits: {{memory: 64Gi, nvidia.com/gpu: {tp}}}
          startupProbe: {{httpGet: {{path: /health, port: http}}, periodSeconds: 10, failureThreshold: 90}}
          readinessProbe: {{httpGet: {{path: /health, port: http}}, periodSeconds: 5}}
          livenessProbe: {{httpGet: {{path: /health, port: http}}, periodSeconds: 10}}
          volumeMounts:
            - {{name: dshm, mountPath: /dev/shm}}
            - {{name: cache, mountPath: /root/.cache/huggingface}}
      volumes:
        - {{name: dshm, emptyDir: {{medium: Memory, sizeLimit: 16Gi}}}}
        - {{name: cache, persistentVolumeClaim: {{claimName: hf-cache}}}}
"""
STATEFULSET = """apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: triton-{i}, namespace: serving}}
spec:
  serviceName: triton-{i}
  selector: {{matchLabels: {{app: triton-{i}}}}}
  template:
    metadata: {{labels: {{app: triton-{i}}}}}
    spec:
      containers:
        - name: triton
          image: nvcr.io/nvidia/tritonserver:24.08-py3
          command: ["tritonserver", "--model-repository=s3://models/repo", "--http-port=8000"]
          ports: [{{containerPort: 8000, name: http}}, {{containerPort: 8001, name: grpc}}, {{containerPort: 8002, name: metrics}}]
          resources: {{limits: {{cpu: "4", memory: 16Gi, nvidia.com/gpu: 1}}}}
          readinessProbe: {{httpGet: {{path: /v2/health/ready, port: http}}}}
"""
SMALL = [
    """apiVersion: v1
kind: Service
metadata: {{name: vllm-{i}, namespace: serving}}
spec:
  selector: {{app.kubernetes.io/name: vllm-{i}}}
  ports: [{{name: http, port: 80, targetPort: http}}]
""",
    """apiVersion: v1
kind: ConfigMap
metadata: {{name: settings-{i}, namespace: serving}}
data: {{engine.yaml: "max-model-len: 8192\\n", LOG_LEVEL: info}}
""",
    """apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: vllm-{i}, namespace: serving}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: vllm-{i}}}
  minReplicas: 1
  maxReplicas: 4
  metrics:
    - type: Resource
      resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 70}}}}
""",
    """apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {{name: vllm-{i}, namespace: serving}}
spec:
  maxUnavailable: 1
  selector: {{matchLabels: {{app.kubernetes.io/name: vllm-{i}}}}}
""",
    """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: vllm-{i}, namespace: serving}}
spec:
  rules:
    - host: llm-{i}.example.com
      http:
        paths:
          - {{path: /, pathType: Prefix, backend: {{service: {{name: vllm-{i}, port: {{number: 80}}}}}}}}
""",
    """apiVersion: v1
kind: ServiceAccount
metadata: {{name: vllm-{i}, namespace: serving}}
""",
    """apiVersion: batch/v1
kind: Job
metadata: {{name: warm-{i}, namespace: serving}}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: warm
          image: curlimages/curl:8.10.1
          args: ["-sf", "http://vllm-{i}/v1/models"]
          resources: {{requests: {{cpu: 50m, memory: 32Mi}}, limits: {{memory: 32Mi}}}}
""",
    """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: vllm-{i}, namespace: serving}}
spec:
  podSelector: {{matchLabels: {{app.kubernetes.io/name: vllm-{i}}}}}
  policyTypes: [Ingress]
  ingress: [{{ports: [{{port: 8000, protocol: TCP}}]}}]
""",
]


def write_corpus(folder: Path, objects: int) -> int:
    written = 0
    for f in range(0, objects, PER_FILE):
        docs = [DEPLOYMENT.format(i=f, tp=(1, 2, 4, 8)[f % 4]), STATEFULSET.format(i=f)]
        docs += [SMALL[k % len(SMALL)].format(i=f) for k in range(PER_FILE - 2)]
        (folder / f"stack-{f:05d}.yaml").write_text("---\n".join(docs))
        written += len(docs)
    return written


def timed(cmd: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds, CPU seconds (user + system of the command and its children), result."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), proc


def standalone_schemas(out: Path) -> Path:
    """kubernetes-validate's strict schemas made standalone (each with only the definitions
    it reaches, like kubeconform's own "-standalone-strict" schemas), in its file layout."""
    from stackgen.lint.schema.builtin import _schema_root, bundled_versions

    src = _schema_root() / f"v{bundled_versions()[-1]}.0-local-strict"
    prefix = '"/api/_definitions.json#/$defs/'
    defs = json.loads((src / "_definitions.json").read_text().replace(prefix, '"#/$defs/'))["$defs"]
    for name in ("deployment-apps-v1", "statefulset-apps-v1", "service-v1", "configmap-v1",
                 "horizontalpodautoscaler-autoscaling-v2", "poddisruptionbudget-policy-v1",
                 "ingress-networking-v1", "serviceaccount-v1", "job-batch-v1",
                 "networkpolicy-networking-v1"):
        schema = json.loads((src / f"{name}.json").read_text().replace(prefix, '"#/$defs/'))
        schema["$defs"] = {k: defs[k] for k in _reachable(schema, defs)}
        (out / f"{name}.json").write_text(json.dumps(schema))
    return out


def _reachable(schema: dict, defs: dict) -> set[str]:
    seen: set[str] = set()
    todo = [schema]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] not in seen:
                seen.add(ref[8:])
                todo.append(defs[ref[8:]])
            todo.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            todo.extend(node)
    return seen


def install_kubeconform(tmp: Path) -> Path | None:
    if shutil.which("go") is None:
        print("kubeconform: skipped (no Go toolchain)")
        return None
    env = {**os.environ, "GOPATH": str(tmp / "gopath"), "GOBIN": str(tmp / "bin"),
           "GOFLAGS": "-mod=mod -modcacherw", "GOTOOLCHAIN": "local"}
    proc = subprocess.run(["go", "install", KUBECONFORM], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"kubeconform: install failed: {proc.stderr.strip()[-400:]}")
        return None
    return tmp / "bin" / "kubeconform"


def rate(objects: int, wall: float, cpu: float) -> str:
    return (f"{objects / wall:>7,.0f} objects/s ({wall:5.2f} s wall)"
            f"  {objects / cpu:>7,.0f} objects per CPU-second ({cpu:5.2f} s CPU)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--no-kubeconform", action="store_true")
    parser.add_argument("--kubeconform", type=Path, help="a kubeconform binary (default: go install)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lint-bench-") as tmp_name:
        tmp = Path(tmp_name)
        corpus = tmp / "corpus"
        corpus.mkdir()
        n = write_corpus(corpus, args.objects)
        print(f"corpus: {n} objects in {len(list(corpus.iterdir()))} files; {os.cpu_count()} CPUs; "
              f"load average {os.getloadavg()[0]:.1f}")
        tools = {label: STACKGEN + ["lint", str(corpus), "--format", "json", *extra] for label, extra in
                 (("stackgen lint --schema-only", ["--schema-only"]), ("stackgen lint (all rules)", []))}
        if not args.no_kubeconform:
            binary = args.kubeconform or install_kubeconform(tmp)
            if binary is not None:
                schemas = standalone_schemas(Path(tempfile.mkdtemp(dir=tmp)))
                location = str(schemas) + "/{{ .ResourceKind }}{{ .KindSuffix }}.json"
                tools[f"kubeconform {_version(binary, given=args.kubeconform is not None)}"] = [str(binary), "-strict", "-summary",
                                                           "-schema-location", location, str(corpus)]
        best: dict[str, tuple[float, float, subprocess.CompletedProcess]] = {}
        for _ in range(max(args.repeat, 1)):
            for label, cmd in tools.items():
                run = timed(cmd)
                if label not in best or run[0] < best[label][0]:
                    best[label] = run
        for label, (wall, cpu, proc) in best.items():
            print(f"{label:<28}{rate(n, wall, cpu)}  exit {proc.returncode}  {_summary(proc)}")
        base = next((k for k in best if k.startswith("kubeconform")), None)
        if base:
            for label in [k for k in best if k != base]:
                print(f"{label} / {base}: {best[base][0] / best[label][0]:.2f}x wall, "
                      f"{best[base][1] / best[label][1]:.2f}x per CPU-second")


def _version(binary: Path, given: bool) -> str:
    proc = subprocess.run([str(binary), "-v"], capture_output=True, text=True)
    version = proc.stdout.strip()  # "development" unless built with -X main.version=...
    return version if version.startswith("v") else "(given binary)" if given else KUBECONFORM.rpartition("@")[2]


def _summary(proc: subprocess.CompletedProcess) -> str:
    if proc.stdout.startswith("{"):
        return str(json.loads(proc.stdout)["summary"])
    out = proc.stdout.strip()
    return out.splitlines()[-1] if out else proc.stderr[-300:]

if __name__ == "__main__":
    main()
