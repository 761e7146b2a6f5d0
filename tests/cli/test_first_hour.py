"""A new user's first hour (issue 13), and what tomgraph writes for spreadsheets: the README's
commands exist as written, docs agree with the code's defaults, piped output does not wrap, the
catalog shows severity escalation, messages say what they mean, and every CSV/XLSX cell that a
spreadsheet could run as a formula is guarded."""

from __future__ import annotations

import csv
import io
import re
import shlex
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from cli.checks_cmd import write_csv
from cli.main import app
from graph.db import Database
from graph.settings import Settings
from graph.settings_doc import default_text, env_name, render_settings
from loaders import load_bundle
from queries.catalog import load_catalog, load_check_file, returns_severity
from queries.findings import RunResult
from queries.runner import run_checks
from visualizations.spreadsheet import guard_cell

REPO = Path(__file__).resolve().parents[2]


def tomgraph(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


# --- formula injection --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        "+1",
        "-1",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
        " =1",
        "\u200b=1",
        "\ufeff+1",
        "\u200e@x",
        "＝1",
        "＋1",
        "－1",
        "＠x",
    ],
)
def test_text_a_spreadsheet_would_run_is_guarded(text: str) -> None:
    assert guard_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["a=b", "1+1", "Ana", "", "\u200b", "—dash", 12, -3, 0.5, None, True])
def test_anything_else_is_written_unchanged(value: object) -> None:
    assert guard_cell(value) == value


def test_check_csv_guards_every_cell() -> None:
    result: RunResult = {
        "scenario": "s",
        "as_of": "2026-11-22",
        "findings": [
            {
                "check": "model-without-owner",
                "severity": "high",
                "subjects": ["m1"],
                "accountable": "r1",
                "message": '=HYPERLINK("http://x")',
                "remediation": "\ufeff@cmd",
                "waived": {"accepted_by": "r2", "reason": "＋1", "expires": "2027-01-01"},
            }
        ],
    }
    stream = io.StringIO()
    write_csv(result, stream)
    assert list(csv.reader(io.StringIO(stream.getvalue())))[1] == [
        "model-without-owner",
        "high",
        "m1",
        "r1",
        '\'=HYPERLINK("http://x")',
        "'\ufeff@cmd",
        "r2",
        "'＋1",
        "2027-01-01",
    ]


WRITERS = re.compile(r"csv\.writer\(|csv\.DictWriter\(|\.to_csv\(|\.to_excel\(|\bWorkbook\(|ExcelWriter\(")


def test_every_module_that_writes_csv_or_xlsx_uses_the_one_guard() -> None:
    writers = []
    for package in ("api", "cli", "explorer", "graph", "importers", "queries", "visualizations"):
        for path in sorted((REPO / package).rglob("*.py")):
            text = path.read_text()
            if WRITERS.search(text):
                writers.append((str(path.relative_to(REPO)), "guard_cell(" in text))
    assert {"cli/checks_cmd.py", "visualizations/report.py", "visualizations/coverage.py"} <= {w for w, _ in writers}
    assert [w for w, guarded in writers if not guarded] == []


# --- the README and the docs ----------------------------------------------------------------


def _readme_commands() -> list[list[str]]:
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", (REPO / "README.md").read_text(), re.S):
        for line in block.splitlines():
            words = shlex.split(line.split("#", 1)[0])
            if words[:1] == ["tomgraph"]:
                commands.append(words[1:])
    return commands


def test_the_readme_says_how_to_get_the_tomgraph_command() -> None:
    readme = (REPO / "README.md").read_text()
    first_block = re.findall(r"```sh\n(.*?)```", readme, re.S)[1]
    assert first_block.splitlines()[0].startswith(". .venv/bin/activate")
    assert (REPO / "Makefile").read_text().count("run '. $(BIN)/activate'") == 2


@pytest.mark.parametrize("words", _readme_commands(), ids=lambda w: " ".join(w))
def test_every_readme_command_names_a_real_command_options_and_files(words: list[str]) -> None:
    command = typer.main.get_command(app)
    if "|" in words:  # `tomgraph neo4j start | stop | status`
        group = command.commands[words[0]]  # type: ignore[attr-defined]
        assert all(w in group.commands for w in words[1:] if w != "|")
        return
    rest = list(words)
    while rest and hasattr(command, "commands") and rest[0] in command.commands:
        command = command.commands[rest.pop(0)]
    assert not hasattr(command, "commands"), words
    options = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
    for word in rest:
        if word.startswith("-"):
            assert word in options, (words, word)
        elif word.startswith(("examples/", "docs/")):
            assert (REPO / word).exists(), word


def test_docs_settings_page_is_generated_from_the_code() -> None:
    assert (REPO / "docs" / "settings.md").read_text() == render_settings(), (
        "docs/settings.md is stale: run `make settings-doc`"
    )


def _default_mentions() -> list[tuple[str, str, str]]:
    """(file, variable, value) for each `TOMGRAPH_X` (value) written in the README or docs."""
    found = []
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        if path.name in ("settings.md", "benchmarks.md", "reliability.md"):  # generated; measured runs
            continue
        for m in re.finditer(r"`((?:TOMGRAPH|NEO4J)_[A-Z0-9_]+)`,? \(([^):]+)[:)]", path.read_text()):
            found.append((path.name, m.group(1), m.group(2).strip()))
    return found


def test_docs_give_the_defaults_the_code_has() -> None:
    defaults = {env_name(n, f.validation_alias): default_text(n) for n, f in Settings.model_fields.items()}
    wrong = []
    for file, variable, written in _default_mentions():
        if variable not in defaults:
            continue
        value = re.sub(r"[,_]|\s*s$", "", written)
        if value not in (defaults[variable], "none" if defaults[variable] == "not set" else None):
            wrong.append((file, variable, written, defaults[variable]))
    assert wrong == []
    assert _default_mentions(), "the pattern finds the docs' defaults"


# --- output ---------------------------------------------------------------------------------


def test_checks_shows_escalation_on_one_unwrapped_line_when_piped() -> None:
    result = tomgraph("checks")
    line = next(line for line in result.stdout.splitlines() if "model-without-change-approver" in line)
    assert re.fullmatch(
        r"\s*model-without-change-approver\s+│\s+high \(critical if risk tier high\)\s+│\s+Active model without a "
        r"change approver\s+│\s+\S+/queries/checks/model-without-change-approver\.yaml\s*",
        line,
    ), line
    raised = sorted(
        line.split("│")[0].strip() for line in result.stdout.splitlines() if "(critical if risk tier high)" in line
    )
    assert raised == [
        "delegated-self-approval",
        "model-without-change-approver",
        "self-approval-in-practice",
        "self-approved-model",
        "unapproved-deployment",
    ]


def test_a_1_0_check_returning_severity_without_escalation_still_loads(tmp_path: Path) -> None:
    """Custom checks written for catalog 1.0 keep loading; their label says the severity may rise."""
    check = (REPO / "queries" / "checks" / "model-without-change-approver.yaml").read_text()
    (tmp_path / "model-without-change-approver.yaml").write_text(
        check.replace("escalation:\n  critical: risk tier high\n", "")
    )
    loaded = load_check_file(tmp_path / "model-without-change-approver.yaml")
    assert loaded.spec.severity_label == "high (may be raised per finding)"


def test_every_shipped_check_that_raises_severity_says_when() -> None:
    shipped = load_catalog([])
    assert [c.id for c in shipped.checks if returns_severity(c.spec.cypher) and not c.spec.escalation] == []


def test_synth_says_as_of_which_day_its_findings_count(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["synth", "--size", "small", "--out", str(tmp_path)])
    m = re.search(
        r"\((\d+) findings as of (\d{4}-\d\d-\d\d): what `tomgraph check --as-of \2` finds once it is", result.stdout
    )
    assert result.exit_code == 0 and m, result.stdout


def test_an_invalid_bundle_exits_2_with_every_problem(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text('units:\n  - {id: u1, name: "  ", properties: {"k\\0": .nan}}\n')
    result = tomgraph("load", str(tmp_path / "b.yaml"), "--dry-run")
    assert (result.returncode, result.stderr.splitlines()) == (
        2,
        [
            "2 problems in the bundle",
            "b.yaml:2: name: must not be empty",
            "b.yaml:2: properties.k\\x00: the key 'k\\x00' contains a NUL character (U+0000), which tomgraph "
            "refuses in any text",
        ],
    )


def test_human_oversight_message_says_whether_it_is_none_or_not_recorded(
    tmp_path: Path, db: Database, scenario: str
) -> None:
    (tmp_path / "b.yaml").write_text(
        "models:\n"
        "  - {id: m-none, name: Scorer, stage: production, risk_tier: high, human_oversight: none}\n"
        "  - {id: m-missing, name: Router, stage: pilot, risk_tier: high}\n"
    )
    load_bundle(db, tmp_path / "b.yaml", scenario)
    result = run_checks(db, load_catalog(), scenario, date(2026, 11, 22), only=["high-risk-without-human-oversight"])
    assert sorted((f["subjects"][0], f["message"]) for f in result["findings"]) == [
        ("m-missing", "Router is high-risk and its human oversight is not recorded"),
        ("m-none", "Scorer is high-risk and runs without human oversight"),
    ]
