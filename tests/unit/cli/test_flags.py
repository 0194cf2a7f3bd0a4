"""Output flags are spelled as kubectl users expect: -o/--output is a FORMAT, --output-dir a
folder, --output-file a file. Every older spelling ../shared/CONTRACT.md lists still works,
and --help shows the consistent spelling first."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from stackgen.cli.main import run

ROOT = Path(__file__).resolve().parents[3]
STACK = ROOT / "examples" / "llm-only" / "stackgen.yaml"
ANSWERS = ROOT / "examples" / "hybrid" / "answers.yaml"
CLEAN = ROOT / "tests" / "lint_corpus" / "stackgen-runtime.yaml"
SIZE = ["size", "--model", "llama-3.1-8b", "--gpu", "h100", "--max-model-len", "8192"]


@pytest.fixture
def cli(capsys, monkeypatch):
    """Runs `stackgen ARGS` in-process; returns (exit code, stdout, stderr)."""
    monkeypatch.delenv("STACKGEN_DEBUG", raising=False)

    def call(*args: str) -> tuple[int, str, str]:
        code = run([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return call


def option_rows(help_text: str) -> list[str]:
    """The options column of --help, one entry per option, e.g. '-o, --output <text|json>'."""
    section = help_text.split("Options:", 1)[1]
    return [re.split(r"\s{2,}", line.strip())[0] for line in section.splitlines()
            if line.startswith("  -")]


@pytest.mark.parametrize("command,first,hidden", [
    ("plan", "-o, --output <text|json>", ["-O"]),
    ("size", "-o, --output <text|json>", []),
    ("lint", "-o, --output <text|json|sarif|junit|github>", []),
    ("render", "--output-dir <dir>", ["-o", "--output"]),
    ("init", "--output-file <file>", ["-o", "--output"]),
])
def test_help_shows_the_consistent_spelling_and_names_the_aliases(cli, command, first, hidden):
    code, out, _ = cli(command, "--help")
    assert code == 0
    rows = option_rows(out)
    output_names = {"--output", "--output-dir", "--output-file"}
    output_rows = [r for r in rows if output_names & set(re.split(r"[ ,]+", r.split(" <")[0]))]
    assert output_rows[0] == first, rows
    for alias in hidden:  # not in the options column, but the help text says they work
        assert not any(alias in re.split(r"[ ,]+", r) for r in rows), (alias, rows)
        assert re.search(rf"Also accepted: [^.]*{re.escape(alias)}\b", " ".join(out.split())), out


def test_lint_help_lists_format_after_output_and_file_under_output_file(cli):
    rows = option_rows(cli("lint", "--help")[1])
    assert rows.index("-o, --output <text|json|sarif|junit|github>") < \
        rows.index("--format <text|json|sarif|junit|github>")
    assert "--output-file <file>" in rows


@pytest.mark.parametrize("spelling", [["-o", "json"], ["--output", "json"], ["--output=json"],
                                      ["-O", "json"]])
def test_plan_json_under_every_spelling(cli, spelling):
    code, out, err = cli("plan", "-f", STACK, *spelling)
    assert code == 0, err
    assert json.loads(out)["stack"] == "chat"


@pytest.mark.parametrize("spelling", [["-o", "json"], ["--output", "json"]])
def test_size_json_under_both_spellings(cli, spelling):
    code, out, err = cli(*SIZE, *spelling)
    assert code == 0, err
    assert json.loads(out)["gpu"] == "h100-80gb"


@pytest.mark.parametrize("spelling", [["-o", "json"], ["--output", "json"], ["--format", "json"],
                                      ["-o", "json", "--format", "json"]])
def test_lint_format_under_every_spelling(cli, spelling):
    code, out, err = cli("lint", CLEAN, *spelling)
    assert code == 0, err
    assert json.loads(out)["summary"]["files"] == 1


@pytest.mark.parametrize("args,field,allowed", [
    (["plan", "-f", str(STACK), "-o", "yaml"], "-o/--output", "text | json"),
    ([*SIZE, "--output", "xml"], "-o/--output", "text | json"),
    (["lint", str(CLEAN), "-o", "xml"], "-o/--output", "text | json | sarif | junit | github"),
    (["lint", str(CLEAN), "--format", "xml"], "--format", "text | json | sarif | junit | github"),
])
def test_a_bad_format_is_exit_2_naming_the_flag_and_the_formats(cli, args, field, allowed):
    code, out, err = cli(*args)
    assert code == 2 and out == ""
    assert err.startswith(f"error: {field}: ") and "is not an output format" in err
    assert f"fix: use {field.split('/')[0]} {allowed}" in err
    assert "Traceback" not in err


def test_lint_o_with_a_file_name_points_at_output_file(cli, tmp_path):
    """lint's -o named the report file before -o meant the format, as in kubectl."""
    report = tmp_path / "report.sarif"
    for args in (["-o", str(report)], ["-o", str(report), "--format", "sarif"]):
        code, out, err = cli("lint", CLEAN, *args)
        assert code == 2 and out == "", err
        assert f"--output-file {report}" in err
    assert not report.exists()


def test_lint_refuses_two_different_formats(cli):
    code, _, err = cli("lint", CLEAN, "-o", "json", "--format", "sarif")
    assert code == 2
    assert "-o/--output json and --format sarif ask for different output formats" in err


def test_lint_output_file_gets_the_report_and_stdout_stays_empty(cli, tmp_path):
    report = tmp_path / "out" / "lint.sarif"
    code, out, err = cli("lint", CLEAN, "-o", "sarif", "--output-file", report)
    assert code == 0, err
    assert out == ""
    assert json.loads(report.read_text())["version"] == "2.1.0"
    assert [p.name for p in report.parent.iterdir()] == ["lint.sarif"]  # no temp file left


@pytest.mark.parametrize("spelling", ["--output-dir", "-o", "--output"])
def test_render_into_the_folder_under_every_spelling(cli, tmp_path, spelling):
    out_dir = tmp_path / "deploy"
    code, _, err = cli("render", "-q", "-f", STACK, spelling, out_dir)
    assert code == 0, err
    assert (out_dir / "kustomization.yaml").is_file()
    assert f"into {out_dir}" in err


@pytest.mark.parametrize("spelling", ["--output-file", "-o", "--output"])
def test_init_writes_the_file_under_every_spelling(cli, tmp_path, spelling, monkeypatch):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "mine.yaml"
    code, _, err = cli("init", "--non-interactive", "--answers", ANSWERS, spelling, target)
    assert code == 0, err
    assert target.read_text() == (ROOT / "examples/hybrid/stackgen.yaml").read_text()
    assert not (tmp_path / "stackgen.yaml").exists()
