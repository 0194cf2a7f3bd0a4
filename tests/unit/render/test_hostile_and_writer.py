"""Hostile strings never change the rendered document structure; every valid stack renders
schema-valid output; the writer never clobbers a user's edit."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from stackgen.catalog import stack_facts
from stackgen.decide import decide
from stackgen.errors import InputError
from stackgen.render import render_files
from stackgen.render.names import safe_name
from stackgen.spec import parse_stack

ROOT = Path(__file__).resolve().parents[3]
GOOD_IMAGES = st.one_of(
    st.sampled_from(["registry.example.com:5000/team/runtime:v1.2.3", "ghcr.io/a/b@sha256:" + "a" * 64]),
    st.builds(lambda a, b: f"{a}/{b}:v1", st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True),
              st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True)),
)
#: image references the stack file must refuse, and the words its error must use
BAD_IMAGES = [("x\nkind: Secret", "not an image reference"), ("UPPER/case:1", "not an image reference"),
              ("ok/img:1.0\u2028x", "not an image reference"), ("img:latest", "not pinned")]
HOSTILE = st.one_of(
    st.sampled_from(["x\nkind: Secret", "x: {y: 1}", "{{ 7*7 }}", "{% raw %}", "a\"b'c", "--- \n",
                     "&anchor *anchor", "!!python/object/apply:os.system ['id']", "#comment",
                     "é中\u202e", "${HOME}", "\\n\\t"]),
    st.text(min_size=1, max_size=40).filter(lambda s: s.strip()),
)
DNS = st.from_regex(r"[a-z]([a-z0-9-]{0,50}[a-z0-9])?", fullmatch=True)
DNS_1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")


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


def values(node):
    """Every scalar in a document, the YAML documents a ConfigMap carries parsed too."""
    if isinstance(node, dict):
        for v in node.values():
            yield from values(v)
    elif isinstance(node, list):
        for v in node:
            yield from values(v)
    else:
        yield node
        if isinstance(node, str) and "\n" in node:
            try:
                yield from values(YAML(typ="safe").load(node))
            except Exception:  # noqa: BLE001 - a multi-line string that is not YAML is only a string
                pass


def refusal(data: dict) -> InputError | None:
    """The InputError parse_stack refuses the stack with; None when it accepts it."""
    try:
        parse_stack(data, "stackgen.yaml")
    except InputError as err:
        return err
    return None


@pytest.mark.parametrize("image,words", BAD_IMAGES)
def test_a_bad_image_is_refused_naming_both_image_fields(image: str, words: str) -> None:
    with pytest.raises(InputError) as info:
        parse_stack(stack("m", image, "org/model", "llm", "gke", 1), "stackgen.yaml")
    errors = getattr(info.value, "errors", [info.value])
    assert {e.field for e in errors} == {"spec.images.runtime", "spec.images.triton"}
    assert all(words in e.message and repr(image) in e.message for e in errors), info.value.render()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          report_multiple_bugs=False)
@given(name=DNS, image=GOOD_IMAGES, tail=HOSTILE, kind=st.sampled_from(["llm", "embedding", "vision"]),
       provider=st.sampled_from(["generic", "gke", "eks", "aks"]), pools=st.integers(0, 3))
def test_hostile_strings_stay_data(name, image, tail, kind, provider, pools) -> None:
    """A hostile model source is either refused (an InputError naming
    spec.models[0].source, with a fix) or rendered as one plain string value: it never
    adds an object, a key or a Secret, and never reaches a template as code."""
    data = stack(name, image, tail, kind, provider, pools)
    refused = refusal(data)
    if refused is not None:
        errors = getattr(refused, "errors", [refused])
        assert [(e.file, e.field) for e in errors] == [("stackgen.yaml", "spec.models[0].source")]
        assert "is not a model source: use hf://org/name" in errors[0].message, refused.render()
        return
    parsed = parse_stack(data, "stackgen.yaml")
    files = render_files(parsed, decide(parsed, stack_facts(parsed, ROOT)))
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
    source = parsed.spec.models[0].source
    assert any(v == source for _, d in docs for v in values(d)), f"{source!r} is not a value"
    images = [c["image"] for _, d in docs if d["kind"] in ("Deployment", "ServingRuntime")
              for c in (d["spec"].get("template", {}).get("spec", d["spec"]).get("containers", []))]
    assert images and all(i == image for i in images if not i.startswith("nvcr.io"))


def test_long_names_are_truncated_with_a_stable_hash() -> None:
    long = "a" * 63
    # the literal: a rename would orphan every object a previous `stackgen apply` created
    assert safe_name("stack", long, limit=45) == "stack-" + "a" * 30 + "-b6a092c1"
    assert safe_name("stack", "a" * 62 + "b", limit=45) != safe_name("stack", long, limit=45)
    assert safe_name("7b") == "m-7b"  # DNS-1035: a label starts with a letter
    assert safe_name("Chat", "Bot") == "chat-bot"


@settings(max_examples=200, deadline=None)
@given(stack_name=DNS, models=st.lists(DNS, min_size=2, max_size=6, unique=True),
       limit=st.sampled_from([45, 63]))
def test_names_of_one_stack_are_valid_distinct_labels(stack_name, models, limit) -> None:
    """What the stack file allows (DNS-1123 names) always gives a DNS-1035 label within the
    limit, and two models of one stack never share a name."""
    names = [safe_name(stack_name, m, limit=limit) for m in models]
    for model, name in zip(models, names):
        assert DNS_1035.fullmatch(name) and len(name) <= limit, (model, name)
        if len(stack_name) + 1 + len(model) <= limit:
            assert name == f"{stack_name}-{model}"  # short names are kept as written
        else:
            assert name[-9] == "-" and re.fullmatch(r"[0-9a-f]{8}", name[-8:]), name
    assert len(set(names)) == len(names), names


def _render(out: Path, stack_file: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stackgen.cli.main", "render", "-f", str(stack_file),
                           "--output-dir", str(out), *extra], capture_output=True, text=True)


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


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_file_as_the_target_is_bad_input(tmp_path: Path) -> None:
    target = tmp_path / "deploy"
    target.write_text("mine\n")
    proc = _render(target, ROOT / "examples/llm-only/stackgen.yaml")
    assert proc.returncode == 2, proc.stderr
    assert "it is a file, not a folder" in proc.stderr and "Traceback" not in proc.stderr
    assert "internal error" not in proc.stderr and target.read_text() == "mine\n"


def test_check_reports_files_stackgen_did_not_render(tmp_path: Path) -> None:
    out, stack_file = tmp_path / "deploy", ROOT / "examples/llm-only/stackgen.yaml"
    assert _render(out, stack_file).returncode == 0
    (out / "models" / "extra.yaml").write_text("kind: ConfigMap\n")
    (out / "overlays" / "production" / "patch.yaml").write_text("x: 1\n")  # the user's place
    check = _render(out, stack_file, "--check")
    assert check.returncode == 1
    assert "models/extra.yaml" in check.stderr and "patch.yaml" not in check.stderr


def test_a_failure_while_writing_leaves_the_folder_as_it_was(tmp_path: Path, monkeypatch) -> None:
    """ENOSPC on the fourth file of a re-render: the error names the path, exits 2, and the
    old folder is byte-identical, with no staging folder left beside it."""
    import errno

    from stackgen.catalog import stack_facts
    from stackgen.decide import decide
    from stackgen.render import writer
    from stackgen.spec import load_stack

    stack_file = tmp_path / "stackgen.yaml"
    stack_file.write_text((ROOT / "examples/hybrid/stackgen.yaml").read_text())
    out = tmp_path / "deploy"
    assert _render(out, stack_file).returncode == 0
    before = _tree(out)
    stack_file.write_text(stack_file.read_text().replace("peakRps: 4", "peakRps: 40"))
    stack = load_stack(stack_file)
    files = render_files(stack, decide(stack, stack_facts(stack, tmp_path)))
    real, calls = writer._put, []

    def full_disk(path: Path, text: str) -> None:
        calls.append(path)
        if len(calls) == 4:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, text)

    monkeypatch.setattr(writer, "_put", full_disk)
    with pytest.raises(InputError, match="No space left on device") as err:
        writer.write(out, files)
    assert "left as it was" in str(err.value) and err.value.fix
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deploy", "stackgen.yaml"]


def test_a_real_full_filesystem_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    """The same on a 96 KiB tmpfs, mounted in a private mount namespace: util-linux's
    unshare, as root or in a user namespace (which lets an ordinary user mount a tmpfs)."""
    import os
    import shutil

    unshare = shutil.which("unshare")
    assert unshare, "util-linux's unshare is needed to mount a small tmpfs for this test"
    stack_file = tmp_path / "stackgen.yaml"
    stack_file.write_text((ROOT / "examples/llm-only/stackgen.yaml").read_text())
    small = tmp_path / "small"
    small.mkdir()
    render = f"{sys.executable} -m stackgen.cli.main render -q -f {stack_file} --output-dir {small}/deploy"
    script = (
        f"mount -t tmpfs -o size=96k tmpfs {small} || exit 77\n"
        f"{render} || exit 10\n"
        f"cp -a {small}/deploy {tmp_path}/before\n"
        f"head -c $(( $(df --output=avail -B1 {small} | tail -1) - 2048 )) /dev/zero > {small}/filler 2>/dev/null\n"
        f"sed -i 's/maxModelLen: 8192/maxModelLen: 4096/; s/peakRps: [0-9]*/peakRps: 77/' {stack_file}\n"
        f"{render}; echo rc=$? > {tmp_path}/rc\n"
        f"diff -r {tmp_path}/before {small}/deploy > {tmp_path}/diff; echo diff=$? >> {tmp_path}/rc\n"
        f"ls -a {small} > {tmp_path}/listing\n")
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    proc = subprocess.run([unshare, *user, "--mount", "--propagation", "private", "sh", "-c", script],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode != 77, f"could not mount a tmpfs in a mount namespace: {proc.stderr}"
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "rc").read_text().split() == ["rc=2", "diff=0"], proc.stderr
    assert "No space left on device" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted((tmp_path / "listing").read_text().split()) == [".", "..", "deploy", "filler"]
