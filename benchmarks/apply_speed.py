"""Time `stackgen apply` of a generated 100-model stack against the local control plane,
next to `kubectl apply --server-side` of the same objects (kubectl built here from the Go
module proxy, with the control plane's own module, and cached). Prints figures only.

    .venv/bin/python benchmarks/apply_speed.py [--models 100]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from cli_speed import stack  # noqa: E402

from stackgen.cluster.controlplane import ControlPlane, binaries_dir, pinned_versions  # noqa: E402
from stackgen.cluster.stack_nodes import add_sandbox_volumes, kwok_pools  # noqa: E402
from stackgen.spec import parse_stack  # noqa: E402


def kubectl() -> Path:
    """kubectl of the control plane's Kubernetes version, built once into the cache."""
    version = pinned_versions()["K8S_VERSION"]
    out = binaries_dir().parent / "kubectl" / "kubectl"
    if out.exists():
        return out
    with tempfile.TemporaryDirectory() as tmp:
        mod = Path(tmp) / "kube"
        shutil.copytree(ROOT / "tools" / "controlplane" / "kube", mod)
        env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=mod")
        ldflags = f"-s -w -X k8s.io/component-base/version.gitVersion={version}"
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["go", "build", "-trimpath", "-ldflags", ldflags, "-o", str(out),
                        "k8s.io/kubernetes/cmd/kubectl"], cwd=mod, env=env, check=True)
    return out


def generated(models: int, name: str) -> dict:
    data = stack(models)
    data["metadata"] = {"name": name, "namespace": name}
    data["spec"]["requirements"] = {"teams": 1}
    for model in data["spec"]["models"]:
        model.pop("team")
    return data


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=100)
    args = parser.parse_args()
    kubectl_bin = kubectl()
    exe = str(Path(sys.executable).with_name("stackgen"))
    with tempfile.TemporaryDirectory() as tmp:
        folders = {}
        for name in ("sg", "kc"):
            data = generated(args.models, name)
            path = Path(tmp) / f"{name}.yaml"
            path.write_text(yaml.safe_dump(data))
            subprocess.run([exe, "render", "-q", "-f", str(path), "-o", str(Path(tmp) / name)], check=True)
            folders[name] = Path(tmp) / name
        pools = kwok_pools(parse_stack(generated(args.models, "sg"), "bench"))
        with ControlPlane(pools) as plane:
            add_sandbox_volumes(str(plane.kubeconfig), count=4)
            kc = ["--kubeconfig", str(plane.kubeconfig)]
            objects = len(yaml.safe_load((folders["sg"] / "kustomization.yaml").read_text())["resources"])
            sg = [exe, "apply", str(folders["sg"]), *kc, "--no-wait", "--no-diff"]
            kube = [str(kubectl_bin), "apply", "--server-side", "--field-manager", "bench",
                    "-k", str(folders["kc"]), *kc]
            rows = [("stackgen apply (create)", timed(sg)), ("kubectl apply --server-side (create)", timed(kube)),
                    ("stackgen apply (no change)", timed(sg)),
                    ("kubectl apply --server-side (no change)", timed(kube))]
    print(f"{args.models} models, {objects} objects per stack")
    for label, seconds in rows:
        print(f"  {label:42s} {seconds:6.2f} s  {objects / seconds:7.1f} objects/s")


if __name__ == "__main__":
    main()
