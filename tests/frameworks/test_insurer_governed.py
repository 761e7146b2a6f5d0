"""examples/insurer-governed (the insurer with meta.frameworks: [eu-ai-act]) gives exactly its
expected coverage and findings; the CLI, check --framework and the REST route agree with them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from cli.checks_cmd import register as register_checks
from cli.coverage_cmd import register as register_coverage
from graph.consistent import consistent_view
from graph.db import Database
from graph.settings import Settings
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.coverage import coverage_in, public
from queries.frameworks import load_frameworks
from queries.runner import run_checks

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AS_OF = dt.date(2026, 11, 23)


def _identity(findings: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (
            f["check"],
            f["severity"],
            tuple(f["subjects"]),
            f["accountable"],
            json.dumps(f.get("details"), sort_keys=True),
        )
        for f in findings
    ]


def _cli(db: Database, settings: Settings, *args: str) -> Any:
    class Ctx:
        def __init__(self) -> None:
            self.settings, self.db, self.debug = settings, db, False

    app = typer.Typer()
    register_checks(app, Ctx)
    register_coverage(app, Ctx)
    return CliRunner().invoke(app, list(args))


def test_governed_example_gives_exactly_its_coverage_and_findings(db: Database, scenario: str) -> None:
    load_bundle(db, EXAMPLES / "insurer-governed", scenario)
    with consistent_view(db, scenario) as view:
        coverage = public(coverage_in(view, load_frameworks().select(["eu-ai-act"]), load_catalog(), AS_OF))
    expected = json.loads((EXAMPLES / "insurer-governed.expected-coverage.json").read_text())
    assert {**coverage, "scenario": "current"} == expected
    findings = run_checks(db, load_catalog(), scenario, AS_OF)["findings"]
    assert _identity(findings) == _identity(
        json.loads((EXAMPLES / "insurer-governed.expected-findings.json").read_text())
    )


def test_without_frameworks_the_governed_example_has_the_insurer_findings(db: Database, scenario: str) -> None:
    load_bundle(db, EXAMPLES / "insurer-governed", scenario)
    findings = run_checks(db, load_catalog(), scenario, AS_OF, frameworks=[])["findings"]
    insurer = json.loads((EXAMPLES / "insurer.expected-findings.json").read_text())
    assert [i[:4] for i in _identity(findings)] == [i[:4] for i in _identity(insurer)]


def test_cli_coverage_and_check_framework(db: Database, test_settings: Settings, scenario: str) -> None:
    load_bundle(db, EXAMPLES / "insurer", scenario)
    day = AS_OF.isoformat()
    printed = _cli(
        db, test_settings, "coverage", "-s", scenario, "--framework", "eu-ai-act", "--as-of", day, "--format", "json"
    )
    assert printed.exit_code == 0, printed.output
    data = json.loads(printed.stdout)
    expected = json.loads((EXAMPLES / "insurer-governed.expected-coverage.json").read_text())
    assert data["frameworks"] == expected["frameworks"]
    assert {
        "from": "eu-ai-act:art27",
        "ref": "Art. 27",
        "satisfied": 0,
        "applicable": 2,
        "to": "iso-42001:A.5.2",
        "target_satisfied": None,
        "target_applicable": None,
    } in data["crosswalk"]

    printed = _cli(db, test_settings, "coverage", "-s", scenario, "-f", "eu-ai-act", "--as-of", day, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(printed.stdout)))
    assert len(rows) == sum(o["applicable"] for o in expected["frameworks"][0]["obligations"])
    assert {
        "framework": "eu-ai-act",
        "obligation": "art27",
        "ref": "Art. 27",
        "title": "Fundamental rights impact assessment before first use",
        "subject": "m-uw-risk-score",
        "status": "fails",
        "failing": "evidence: fria",
    } in rows

    printed = _cli(db, test_settings, "coverage", "-s", scenario, "-f", "eu-ai-act", "--as-of", day, "--format", "html")
    assert f'<a href="/ui/scenarios/{scenario}/entities/m-fraud-score">m-fraud-score</a>' in printed.stdout

    printed = _cli(
        db,
        test_settings,
        "check",
        "-s",
        scenario,
        "--as-of",
        day,
        "--format",
        "json",
        "--only",
        "obligation-unmet",
        "--framework",
        "eu-ai-act",
        "--fail-on",
        "high",
    )
    assert printed.exit_code == 3
    governed = [
        f
        for f in json.loads((EXAMPLES / "insurer-governed.expected-findings.json").read_text())
        if f["check"] == "obligation-unmet"
    ]
    assert _identity(json.loads(printed.stdout)["findings"]) == _identity(governed)

    printed = _cli(db, test_settings, "coverage", "-s", scenario, "-f", "dora")
    assert (printed.exit_code, printed.stderr.strip()) == (
        2,
        "error: --framework: unknown framework: dora (known: eu-ai-act, iso-42001, nist-ai-rmf)",
    )
