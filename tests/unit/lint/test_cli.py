"""`stackgen lint` as users and CI call it: exit codes, formats, config, suppression."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO / "tests" / "lint_corpus"
CLEAN = CORPUS / "stackgen-runtime.yaml"
WARNINGS_ONLY = CORPUS / "vllm-docs-rocm.yaml"

TP_TOO_BIG = """\
apiVersion: v1
kind: Pod
metadata: {name: big}
spec:
  containers:
    - name: vllm
      image: vllm/vllm-openai:v0.10.1
      args: ["--model", "/models/x", "--tensor-parallel-size", "8"]
      resources: {limits: {nvidia.com/gpu: 4, cpu: "8", memory: 64Gi}}
"""


def _hardened(tmp_path: Path) -> Path:
    """CLEAN carries the securityContext stackgen's rendered pods carry (non-root, seccomp
    RuntimeDefault, capabilities dropped): the security rules find nothing either."""
    assert CLEAN.read_text().count("securityContext:") == 2
    return CLEAN


def test_clean_manifest_exits_0(stackgen_cli, tmp_path) -> None:
    proc = stackgen_cli("lint", str(_hardened(tmp_path)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no findings" in proc.stdout


def test_fail_on_decides_the_exit_code(stackgen_cli, tmp_path) -> None:
    assert stackgen_cli("lint", str(WARNINGS_ONLY)).returncode == 0
    assert stackgen_cli("lint", str(WARNINGS_ONLY), "--fail-on", "warning").returncode == 1
    assert stackgen_cli("lint", str(_hardened(tmp_path)), "--fail-on", "info").returncode == 0
    root = tmp_path / "root.yaml"  # CLEAN without its pod securityContext: run-as-root
    root.write_text("".join(line for line in CLEAN.read_text().splitlines(True)
                            if "runAsNonRoot" not in line))
    assert stackgen_cli("lint", str(root), "--fail-on", "warning").returncode == 1


def test_json_is_the_contract_shape(stackgen_cli, tmp_path) -> None:
    (tmp_path / "pod.yaml").write_text(TP_TOO_BIG)
    proc = stackgen_cli("lint", "pod.yaml", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert set(doc) == {"findings", "summary"}
    assert set(doc["summary"]) == {"files", "objects", "errors", "warnings", "infos"}
    tp = [f for f in doc["findings"] if f["name"] == "tp-exceeds-gpus"]
    assert tp == [{"rule": "SG104", "name": "tp-exceeds-gpus", "severity": "error",
                   "message": tp[0]["message"], "remediation": tp[0]["remediation"],
                   "file": "pod.yaml", "line": 8,
                   "object": {"apiVersion": "v1", "kind": "Pod", "name": "big", "namespace": None}}]
    assert "TP=8" in tp[0]["message"] and "4 GPU" in tp[0]["message"]


def test_yaml_error_is_a_finding_and_other_files_are_linted(stackgen_cli, tmp_path) -> None:
    (tmp_path / "a-broken.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n\tdata: {}\n"
                                            "---\n" + TP_TOO_BIG)
    (tmp_path / "b-pod.yaml").write_text(TP_TOO_BIG)
    proc = stackgen_cli("lint", str(tmp_path), "--format", "json", cwd=tmp_path)
    doc = json.loads(proc.stdout)
    got = {(f["file"], f["name"], f["line"]) for f in doc["findings"]
           if f["name"] in ("yaml-syntax", "tp-exceeds-gpus")}
    assert got == {("a-broken.yaml", "yaml-syntax", 5), ("a-broken.yaml", "tp-exceeds-gpus", 14),
                   ("b-pod.yaml", "tp-exceeds-gpus", 8)}
    assert doc["summary"]["objects"] == 2


def test_text_output_shows_the_offending_line(stackgen_cli, tmp_path) -> None:
    (tmp_path / "pod.yaml").write_text(TP_TOO_BIG)
    out = stackgen_cli("lint", "pod.yaml", cwd=tmp_path).stdout
    assert "pod.yaml" in out and "SG104 tp-exceeds-gpus" in out
    assert '8 |       args: ["--model", "/models/x", "--tensor-parallel-size", "8"]' in out


def test_junit_and_github_formats(stackgen_cli, tmp_path) -> None:
    (tmp_path / "pod.yaml").write_text(TP_TOO_BIG)
    junit = ET.fromstring(stackgen_cli("lint", "pod.yaml", "--format", "junit", cwd=tmp_path).stdout)
    failures = junit.findall(".//testcase/failure")
    assert int(junit.get("failures")) == len(failures) > 0
    assert any(f.get("type") == "error" and "TP=8" in f.get("message") for f in failures)
    github = stackgen_cli("lint", "pod.yaml", "--format", "github", cwd=tmp_path).stdout.splitlines()
    assert any(line.startswith("::error file=pod.yaml,line=8,title=SG104 tp-exceeds-gpus::") for line in github)


def test_config_is_discovered_and_applied(stackgen_cli, tmp_path) -> None:
    (tmp_path / "pod.yaml").write_text(TP_TOO_BIG)
    (tmp_path / ".stackgen-lint.yaml").write_text(
        "rules:\n  exclude: [tp-exceeds-gpus]\n  severity: {SG102: error}\nfailOn: error\n")
    doc = json.loads(stackgen_cli("lint", "pod.yaml", "--format", "json", cwd=tmp_path).stdout)
    names = {f["name"]: f["severity"] for f in doc["findings"]}
    assert "tp-exceeds-gpus" not in names and names["gpu-missing-toleration"] == "error"


def test_bad_config_exits_2_naming_file_and_field(stackgen_cli, tmp_path) -> None:
    (tmp_path / "pod.yaml").write_text(TP_TOO_BIG)
    (tmp_path / "lint.yaml").write_text("rules:\n  severity: {tp-exceeds-gpus: fatal}\n")
    proc = stackgen_cli("lint", "pod.yaml", "--config", "lint.yaml", cwd=tmp_path)
    assert proc.returncode == 2
    assert "lint.yaml" in proc.stderr and "rules.severity.tp-exceeds-gpus" in proc.stderr
    assert "Traceback" not in proc.stderr
    (tmp_path / "lint.yaml").write_text("rules:\n  exclude: [no-such-rule]\n")
    proc = stackgen_cli("lint", "pod.yaml", "--config", "lint.yaml", cwd=tmp_path)
    assert proc.returncode == 2 and "rules.exclude" in proc.stderr and "no-such-rule" in proc.stderr


def test_bad_arguments_exit_2(stackgen_cli, tmp_path) -> None:
    for args in (["missing.yaml"], [str(CLEAN), "--format", "xml"], [str(CLEAN), "--fail-on", "fatal"],
                 [str(CLEAN), "--kubernetes-version", "banana"], [str(CLEAN), "--crds", "nope/"]):
        proc = stackgen_cli("lint", *args, cwd=tmp_path)
        assert proc.returncode == 2, args
        assert proc.stderr.startswith("error:") and "Traceback" not in proc.stderr


def test_target_version_decides_removed_apis(stackgen_cli, tmp_path) -> None:
    hpa = CORPUS / "triton-legacy-hpa.yaml"
    assert stackgen_cli("lint", str(hpa), "--kubernetes-version", "1.25").returncode == 0
    proc = stackgen_cli("lint", str(hpa), "--kubernetes-version", "1.26", "--format", "json")
    assert proc.returncode == 1
    assert [f["name"] for f in json.loads(proc.stdout)["findings"]] == ["api-removed"]


def test_ignore_annotation_all(stackgen_cli, tmp_path) -> None:
    text = TP_TOO_BIG.replace("metadata: {name: big}",
                              "metadata: {name: big, annotations: {lint.stackgen.dev/ignore: all}}")
    (tmp_path / "pod.yaml").write_text(text)
    assert stackgen_cli("lint", "pod.yaml", cwd=tmp_path).returncode == 0


def test_example_config_works(stackgen_cli, crds) -> None:
    proc = stackgen_cli("lint", str(CORPUS), "--config", "examples/.stackgen-lint.yaml", "--format", "json")
    doc = json.loads(proc.stdout)
    names = {f["name"] for f in doc["findings"]}
    assert "image-latest-tag" not in names and "schema-missing" not in names
    assert {f["severity"] for f in doc["findings"] if f["name"] == "vllm-service-links"} == {"info"}


def test_config_crd_path_must_exist(stackgen_cli, tmp_path) -> None:
    (tmp_path / ".stackgen-lint.yaml").write_text("crds: [missing-crds/]\n")
    proc = stackgen_cli("lint", str(CLEAN), cwd=tmp_path)
    assert proc.returncode == 2 and ".stackgen-lint.yaml" in proc.stderr and "crds[0]" in proc.stderr


def test_kustomize_patches_are_not_linted_as_objects(stackgen_cli, tmp_path) -> None:
    (tmp_path / "pod.yaml").write_text(TP_TOO_BIG.replace('"8"]', '"4"]'))
    (tmp_path / "gpu-patch.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: big}\nspec:\n  nodeSelector: {gpu: h100}\n")
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [pod.yaml]\n"
        "patches:\n  - path: gpu-patch.yaml\n")
    doc = json.loads(stackgen_cli("lint", ".", "--format", "json", cwd=tmp_path).stdout)
    assert doc["summary"] == {**doc["summary"], "files": 2, "objects": 1}
    assert not any(f["name"] == "schema-invalid" for f in doc["findings"])
