"""Hostile strings never change the rendered document structure; every valid stack renders
schema-valid output; the writer never clobbers a user's edit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import kubernetes_validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from stackgen.decide import decide
from stackgen.render import render_files
from stackgen.render.names import safe_name
from stackgen.spec import parse_stack

ROOT = Path(__file__).resolve().parents[3]
IMAGES = st.one_of(
    st.sampled_from(["registry.example.com:5000/team/runtime:v1.2.3", "ghcr.io/a/b@sha256:" + "a" * 64,
                     "x\nkind: Secret", "img:latest", "UPPER/case:1", "ok/img:1.0\u2028x"]),
    st.builds(lambda a, b: f"{a}/{b}:v1", st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True),
              st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True)),
)
HOSTILE = st.one_of(
    st.sampled_from(["x\nkind: Secret", "x: {y: 1}", "{{ 7*7 }}", "{% raw %}", "a\"b'c", "--- \n",
                     "&anchor *anchor", "!!python/object/apply:os.system ['id']", "#comment",
                     "é中\u202e", "${HOME}", "\\n\\t"]),
    st.text(min_size=1, max_size=40).filter(lambda s: s.strip()),
)
DNS = st.from_regex(r"[a-z]([a-z0-9-]{0,50}[a-z0-9])?", fullmatch=True)


def stack(name: str, image: str, source_tail: str, kind: str, provider: str, pools: int) -> dict:
    models = [{"name": name, "source": "hf://" + source_tail.replace(" ", "_").replace("\n", "_")
               .replace("\t", "_").replace("\r", "_") or "x", "kind": kind}]
    if kind != "llm":
        models[0]["framework"] = "onnx"
    return {"apiVersion": "stackgen.dev/v1alpha1", "kind": "Stack",
            "metadata": {"name": "s", "namespace": "ns"},
            "spec": {"cluster": {"provider": provider, "nodePools": [
                {"name": f"p{i}", "gpu": ["h100-80gb", "l4-24gb", "none"][i % 3], "nodes": 2,
                 "gpusPerNode": 8} for i in range(pools)]},
                "models": models, "images": {"runtime": image, "triton": image}}}


def docs_of(files: dict[str, str]) -> list[tuple[str, dict]]:
    return [(rel, d) for rel, text in files.items() if rel.endswith(".yaml")
            for d in YAML(typ="safe").load_all(text) if d is not None]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          report_multiple_bugs=False)
@given(name=DNS, image=IMAGES, tail=HOSTILE, kind=st.sampled_from(["llm", "embedding", "vision"]),
       provider=st.sampled_from(["generic", "gke", "eks", "aks"]), pools=st.integers(0, 3))
def test_hostile_strings_stay_data(name, image, tail, kind, provider, pools) -> None:
    data = stack(name, image, tail, kind, provider, pools)
    try:
        parsed = parse_stack(data, "stackgen.yaml")
    except Exception:  # a string the stack file rejects (e.g. a bad source) never renders
        return
    files = render_files(parsed, decide(parsed, ROOT))
    docs = docs_of(files)
    kinds = [d["kind"] for _, d in docs]
    assert "Secret" not in kinds
    per_file = {}
    for rel, doc in docs:
        per_file[rel] = per_file.get(rel, 0) + 1
        assert set(doc) <= {"apiVersion", "kind", "metadata", "spec", "data", "resources"}, rel
        if rel != "kustomization.yaml" and doc["kind"] != "Namespace":
            kubernetes_validate.validate(doc, "1.33", strict=True) if "/" not in doc["apiVersion"] \
                or doc["apiVersion"].split("/")[0] in ("apps", "policy", "autoscaling",
                                                        "networking.k8s.io") else None
    assert all(count == 1 for count in per_file.values())
    images = [c["image"] for _, d in docs if d["kind"] in ("Deployment", "ServingRuntime")
              for c in (d["spec"].get("template", {}).get("spec", d["spec"]).get("containers", []))]
    assert images and all(i == image for i in images if not i.startswith("nvcr.io"))


def test_long_names_are_truncated_consistently() -> None:
    long = "a" * 63
    assert safe_name("stack", long, limit=45) == safe_name("stack", long, limit=45)
    assert len(safe_name("stack", long, limit=45)) == 45
    assert safe_name("stack", long, limit=45) != safe_name("stack", "a" * 62 + "b", limit=45)
    assert safe_name("7b") == "m-7b"


def _render(out: Path, stack_file: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stackgen.cli.main", "render", "-f", str(stack_file),
                           "-o", str(out), *extra], capture_output=True, text=True)


def test_writer_protects_edits_and_prunes(tmp_path: Path) -> None:
    src = (ROOT / "examples/hybrid/stackgen.yaml").read_text()
    stack_file = tmp_path / "stackgen.yaml"
    stack_file.write_text(src)
    out = tmp_path / "deploy"
    assert _render(out, stack_file).returncode == 0
    overlay = out / "overlays/production/kustomization.yaml"
    overlay.write_text(overlay.read_text() + "# mine\n")
    assert _render(out, stack_file, "--check").returncode == 0

    pdb = out / "models/chat/pdb.yaml"
    pdb.write_text(pdb.read_text() + "# hand edit\n")
    stack_file.write_text(src.replace("peakRps: 4", "peakRps: 40"))  # chat changes
    check = _render(out, stack_file, "--check")
    assert check.returncode == 1 and "models/chat/" in check.stderr
    refused = _render(out, stack_file)
    assert refused.returncode == 2 and "models/chat/pdb.yaml" in refused.stderr
    assert "# hand edit" in pdb.read_text()

    # drop the vision model: its files go, the edit is forced away, overlays stay
    text = stack_file.read_text()
    start = text.index("    - name: vision")
    end = text.index("    - name: fraud")
    stack_file.write_text(text[:start] + text[end:])
    forced = _render(out, stack_file, "--force")
    assert forced.returncode == 0, forced.stderr
    assert not (out / "models/vision").exists()
    assert "# hand edit" not in pdb.read_text()
    assert overlay.read_text().endswith("# mine\n")
    assert _render(out, stack_file, "--check").returncode == 0


def test_refuses_a_folder_it_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    out.mkdir()
    (out / "theirs.yaml").write_text("a: 1\n")
    proc = _render(out, ROOT / "examples/llm-only/stackgen.yaml")
    assert proc.returncode == 2 and "did not render" in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["theirs.yaml"]
