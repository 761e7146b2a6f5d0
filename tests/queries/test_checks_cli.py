"""`tomgraph check`, `checks` and `waive` on a real Neo4j, through the typer app."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from cli.checks_cmd import register
from graph.db import Database
from graph.settings import Settings
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.runner import run_checks
from tests.queries.helpers import CHECKED_ON, write_bundle, write_check

WAIVE_SELF_APPROVALS = """\
- check: self-approved-model
  subjects: [m-high, r-ds]
  accepted_by: r-uw
  reason: Accepted until the new approver starts.
  expires: 2027-01-31
- check: self-approved-model
  subjects: [m-limited, r-ds]
  accepted_by: r-uw
  reason: Pilot only.
  expires: 2027-01-31
"""


@dataclass
class Context:
    settings: Settings
    db: Database
    debug: bool = False


@pytest.fixture
def risky(tmp_path: Path, db: Database, scenario: str) -> str:
    load_bundle(db, write_bundle(tmp_path / "bundle.yaml"), scenario)
    return scenario


def _run(db: Database, settings: Settings, *args: str) -> Result:
    app = typer.Typer()
    register(app, lambda: Context(settings, db))
    return CliRunner().invoke(app, list(args))


def _check(db: Database, settings: Settings, scenario: str, *args: str) -> Result:
    return _run(db, settings, "check", "--scenario", scenario, "--as-of", CHECKED_ON, *args)


def test_json_output_is_exactly_the_run_result(db: Database, test_settings: Settings, risky: str) -> None:
    result = _check(db, test_settings, risky, "--format", "json")
    assert (result.exit_code, json.loads(result.stdout)) == (
        0,
        run_checks(db, load_catalog(), risky, date.fromisoformat(CHECKED_ON)),
    )


def test_csv_output_has_one_row_per_finding_with_subjects_joined(
    db: Database, test_settings: Settings, risky: str
) -> None:
    result = _check(db, test_settings, risky, "--format", "csv", "--only", "self-approved-model")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert [row[:4] for row in rows] == [
        ["check", "severity", "subjects", "accountable"],
        ["self-approved-model", "critical", "m-high;r-ds", "r-uw"],
        ["self-approved-model", "high", "m-limited;r-ds", "r-uw"],
    ]


def test_table_output_groups_findings_by_severity(db: Database, test_settings: Settings, risky: str) -> None:
    output = _check(db, test_settings, risky).stdout
    headings = [
        line.strip()
        for line in output.splitlines()
        if line.strip().split(" ")[0] in {"CRITICAL", "HIGH", "MEDIUM", "LOW"}
    ]
    # with the two tom- findings of a bundle without `meta` (catalog 1.1)
    assert headings == ["CRITICAL (2)", "HIGH (3)", "MEDIUM (3)"]


def test_only_accepts_ids_separated_by_commas(db: Database, test_settings: Settings, risky: str) -> None:
    result = _check(db, test_settings, risky, "--format", "json", "--only", "overdue-model-review,use-case-without-kpi")
    assert [f["check"] for f in json.loads(result.stdout)["findings"]] == [
        "overdue-model-review",
        "use-case-without-kpi",
    ]


def test_fail_on_exits_3_when_a_finding_at_or_above_exists(db: Database, test_settings: Settings, risky: str) -> None:
    assert _check(db, test_settings, risky, "--format", "json", "--fail-on", "high").exit_code == 3


def test_fail_on_exits_0_when_all_findings_are_below(db: Database, test_settings: Settings, risky: str) -> None:
    result = _check(db, test_settings, risky, "--only", "overdue-model-review", "--fail-on", "high")
    assert result.exit_code == 0


def test_waived_findings_do_not_count_for_fail_on(
    tmp_path: Path, db: Database, test_settings: Settings, risky: str
) -> None:
    (tmp_path / "waivers.yaml").write_text(WAIVE_SELF_APPROVALS)
    assert _run(db, test_settings, "waive", str(tmp_path / "waivers.yaml"), "--scenario", risky).exit_code == 0
    result = _check(db, test_settings, risky, "--only", "self-approved-model", "--fail-on", "high")
    assert result.exit_code == 0


def test_waive_reports_how_many_waivers_it_set(
    tmp_path: Path, db: Database, test_settings: Settings, risky: str
) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(WAIVE_SELF_APPROVALS)
    result = _run(db, test_settings, "waive", str(path), "--scenario", risky)
    assert result.stdout.strip() == f"2 waivers set for scenario '{risky}' from {path}"


def test_invalid_waivers_file_exits_2_listing_every_problem(
    tmp_path: Path, db: Database, test_settings: Settings, risky: str
) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(
        WAIVE_SELF_APPROVALS.replace("expires: 2027-01-31", "expires: soon").replace("check: self", "check: x-self")
    )
    result = _run(db, test_settings, "waive", str(path), "--scenario", risky)
    assert (result.exit_code, result.stderr.splitlines()) == (
        2,
        [
            f"error: {path}:5: expires: must be a date YYYY-MM-DD, got 'soon'",
            f"error: {path}:10: expires: must be a date YYYY-MM-DD, got 'soon'",
        ],
    )


def test_unknown_check_id_exits_2(db: Database, test_settings: Settings, risky: str) -> None:
    result = _check(db, test_settings, risky, "--only", "no-such-check")
    assert (result.exit_code, result.stderr) == (2, "error: unknown check id: no-such-check\n")


def test_as_of_must_be_a_date(db: Database, test_settings: Settings, risky: str) -> None:
    result = _run(db, test_settings, "check", "--scenario", risky, "--as-of", "22/11/2026")
    assert (result.exit_code, result.stderr) == (2, "error: --as-of: '22/11/2026' is not a date YYYY-MM-DD\n")


def test_unloaded_scenario_exits_1(db: Database, test_settings: Settings, scenario: str) -> None:
    result = _check(db, test_settings, scenario)
    assert (result.exit_code, result.stderr) == (1, f"error: scenario '{scenario}' has not been loaded\n")


def test_broken_custom_check_exits_1_naming_the_file(
    tmp_path: Path, db: Database, test_settings: Settings, risky: str
) -> None:
    path = write_check(tmp_path / "checks", "no-scenario", "MATCH (m:Model) RETURN [m.id] AS subjects")
    settings = test_settings.model_copy(update={"check_dirs": [tmp_path / "checks"]})
    result = _check(db, settings, risky)
    assert (result.exit_code, result.stderr) == (
        1,
        f"error: {path}:7: cypher: must use $scenario (a check reads one scenario)\n",
    )


def test_checks_lists_every_check_with_its_source_file(tmp_path: Path, db: Database, test_settings: Settings) -> None:
    path = write_check(
        tmp_path / "checks",
        "pilot-model",
        "MATCH (m:Model {scenario: $scenario}) RETURN [m.id] AS subjects, null AS accountable, 'x' AS message",
    )
    settings = test_settings.model_copy(update={"check_dirs": [tmp_path / "checks"]})
    result = _run(db, settings, "checks")
    listed = {
        line.split()[0]: line.split()[-1] for line in result.stdout.splitlines() if line.rstrip().endswith(".yaml")
    }
    assert listed == {c.id: str(c.source) for c in load_catalog().checks} | {"pilot-model": str(path)}


@pytest.mark.parametrize("command", ["check", "checks", "waive"])
def test_every_command_has_help(db: Database, test_settings: Settings, command: str) -> None:
    result = _run(db, test_settings, command, "--help")
    assert (result.exit_code, "Usage:" in result.stdout) == (0, True)
