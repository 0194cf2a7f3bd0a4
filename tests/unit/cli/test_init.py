"""`stackgen init`: non-interactive answers for CI and a real terminal session for people."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pexpect

from stackgen.spec import load_stack

ROOT = Path(__file__).resolve().parents[3]
STACKGEN = [sys.executable, "-m", "stackgen.cli.main"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*STACKGEN, *args], cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120)


def test_answers_file_writes_a_valid_stack(tmp_path: Path) -> None:
    out = tmp_path / "stackgen.yaml"
    proc = run("init", "--non-interactive", "--answers", str(ROOT / "examples/hybrid/answers.yaml"),
               "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    stack = load_stack(out)
    assert [m.name for m in stack.spec.models] == ["chat", "embed", "vision", "fraud"]
    assert stack.spec.cluster.provider == "eks"
    assert stack.spec.models[3].framework == "xgboost"
    assert "orchestration: none" in proc.stderr  # the plan summary follows


def test_set_wins_over_answers_file(tmp_path: Path) -> None:
    out = tmp_path / "s.yaml"
    proc = run("init", "--non-interactive", "--answers", str(ROOT / "examples/hybrid/answers.yaml"),
               "--set", "name=other", "--set", "models[0].peakRps=9", "--set", "scaleToZero=yes",
               "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    stack = load_stack(out)
    assert stack.name == "other"
    assert stack.spec.models[0].traffic.peak_rps == 9
    assert stack.spec.requirements.scale_to_zero is True


def test_missing_answer_names_the_flag_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "s.yaml"
    proc = run("init", "--non-interactive", "--set", "name=x", "--set", "models[0].name=chat",
               "--set", "models[0].kind=llm", "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 2
    assert "models[0].source" in proc.stderr and "--set models[0].source=" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_invalid_answer_is_rejected(tmp_path: Path) -> None:
    proc = run("init", "--non-interactive", "--set", "name=Not Valid", "--set", "models[0].name=c",
               "--set", "models[0].source=hf://a/b", "-o", str(tmp_path / "s.yaml"), cwd=tmp_path)
    assert proc.returncode == 2 and "'name'" in proc.stderr and "lower-case" in proc.stderr


def test_refuses_to_overwrite_and_keeps_comments_with_force(tmp_path: Path) -> None:
    out = tmp_path / "stackgen.yaml"
    base = ["init", "--non-interactive", "--set", "name=keep", "--set", "models[0].name=chat",
            "--set", "models[0].source=hf://meta-llama/Llama-3.1-8B-Instruct", "-o", str(out)]
    assert run(*base, cwd=tmp_path).returncode == 0
    text = out.read_text().replace("kind: llm", "kind: llm  # our main chat model")
    out.write_text(text + "# trailing note\n")
    again = run(*base, cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr
    forced = run(*base, "--set", "models[0].peakRps=7", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    updated = out.read_text()
    assert "# our main chat model" in updated and "# trailing note" in updated
    assert load_stack(out).spec.models[0].traffic.peak_rps == 7


def test_no_terminal_without_non_interactive(tmp_path: Path) -> None:
    proc = run("init", "-o", str(tmp_path / "s.yaml"), cwd=tmp_path)
    assert proc.returncode == 2 and "--non-interactive" in proc.stderr



def test_questionnaire_in_a_real_terminal(tmp_path: Path) -> None:
    """A person answers the prompts by typing into a pseudo-terminal."""
    env = dict(os.environ, KUBECONFIG=str(tmp_path / "none"), TERM="xterm", COLUMNS="120")
    child = pexpect.spawn(sys.executable, ["-m", "stackgen.cli.main", "init", "-o", "stackgen.yaml",
                                           "--no-discover"],
                          cwd=str(tmp_path), env=env, encoding="utf-8", timeout=60,
                          dimensions=(40, 120))
    enter = "\r"
    child.expect("Stack name")
    child.send("Bad Name" + enter)
    child.expect("lower-case letters")          # validation at the prompt
    child.send("\x15" + "shop" + enter)          # ctrl-u clears the line
    child.expect("namespace")
    child.send(enter)                            # default
    child.expect("provider")
    child.send(enter)                            # generic
    child.expect("teams")
    child.send("\x15" + "0" + enter)
    child.expect("whole number >= 1")            # no platform has zero teams
    child.send("\x15" + "1" + enter)
    for _ in range(4):                           # canary, splitting, scale-to-zero, unified API
        child.expect(r"\?")
        child.send("n")
    child.expect("Orchestration")
    child.send(enter)
    child.expect("node pool")                    # "Add a GPU/CPU node pool?"
    child.send("y")
    child.expect("Node pool name")
    child.send("gpus" + enter)
    child.expect("GPU type")
    child.send(enter)                            # first GPU in the catalog
    child.expect("Number of nodes")
    child.send("\x15" + "0" + enter)
    child.expect("whole number >= 1")
    child.send("\x15" + "2" + enter)
    child.expect("GPUs per node")
    child.send("\x15" + "99" + enter)
    child.expect("less than or equal to 64")     # the stack file's own limit, at the prompt
    child.send("\x15" + "8" + enter)
    child.expect("Add another")
    child.send("n")
    child.expect("Model name")
    child.send("chat" + enter)
    child.expect("Model source")
    child.send("hf://meta-llama/Llama-3.1-8B-Instruct" + enter)
    child.expect("Model kind")
    child.send(enter)                            # llm
    child.expect("Peak requests")
    child.send("\x15" + "12" + enter)
    child.expect("input tokens")
    child.send(enter)
    child.expect("output tokens")
    child.send(enter)
    child.expect("p95 latency")
    child.send(enter)
    child.expect("Add another model")
    child.send("y")
    child.expect("Model name")
    child.send("chat" + enter)
    child.expect("taken by an earlier one")      # at once, not after the last answer
    child.send("\x15" + "embed" + enter)
    child.expect("Model source")
    child.send("hf://BAAI/bge-base-en-v1.5" + enter)
    child.expect("Model kind")
    child.send("\x1b[B" + enter)                 # the next kind after llm
    for _ in range(3):                           # framework, peak rps, p95: defaults
        child.expect(r"\?")
        child.send(enter)
    child.expect("Add another model")
    child.send("n")
    child.expect(pexpect.EOF, timeout=90)
    child.close()
    assert child.exitstatus == 0, child.before
    stack = load_stack(tmp_path / "stackgen.yaml")
    assert stack.name == "shop"
    assert stack.spec.cluster.node_pools[0].nodes == 2
    assert stack.spec.models[0].traffic.peak_rps == 12
    assert [m.name for m in stack.spec.models] == ["chat", "embed"]
