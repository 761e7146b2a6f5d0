"""`diff_scenarios` and `tomgraph diff`: the insurer's current and target operating models, exactly
as examples/insurer-target/README.md describes the changes."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from graph.db import Database
from graph.errors import NotFound
from graph.settings import Settings
from graph.sync import delete_scenario
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.diff import diff_scenarios

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AS_OF = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def pair(db: Database) -> Iterator[tuple[str, str]]:
    a, b = f"t-{uuid.uuid4().hex[:12]}", f"t-{uuid.uuid4().hex[:12]}"
    load_bundle(db, EXAMPLES / "insurer", a)
    load_bundle(db, EXAMPLES / "insurer-target", b)
    yield a, b
    delete_scenario(db, a)
    delete_scenario(db, b)


@pytest.fixture(scope="module")
def diff(db: Database, pair: tuple[str, str]) -> dict[str, Any]:
    return diff_scenarios(db, load_catalog(), pair[0], pair[1], AS_OF)


def _rels(items: list[dict[str, str]]) -> set[tuple[str, str, str]]:
    return {(r["start"], r["type"], r["end"]) for r in items}


def test_entities(diff: dict[str, Any]) -> None:
    assert [(e["kind"], e["id"]) for e in diff["entities"]["added"]] == [
        ("Control", "c-doc-extract-review"),
        ("Control", "c-mon-fraud-score"),
        ("Delegation", "dl-mrm-absence-triage"),
        ("Initiative", "ini-claimsight"),
        ("Initiative", "ini-field-data-sharing"),
        ("Initiative", "ini-fraud-monitoring"),
        ("Initiative", "ini-model-risk-head"),
        ("Kpi", "k-cat-accumulation"),
        ("Person", "p-ines-hartmann"),
        ("System", "s-claimsight-gateway"),
        ("UseCase", "uc-cat-accumulation"),
        ("UseCase", "uc-claims-summaries"),
        ("Vendor", "v-claimsight"),
    ]
    # format 1.1: the leave delegation ends, and the incident's late report is history
    assert [(e["kind"], e["id"]) for e in diff["entities"]["removed"]] == [
        ("Delegation", "dl-mv-leave-pricing"),
        ("Incident", "inc-2026-fraud-declines"),
    ]
    changed = {e["id"]: e["changes"] for e in diff["entities"]["changed"]}
    # every changed entity, with its changed fields; the descriptions' texts are not spelled out
    assert {k: sorted(v) for k, v in changed.items()} == {
        "a-property-field-visits": ["description", "status"],
        "a-router-inspection": ["description", "status"],
        "c-fraud-audit": ["description"],
        "ev-ra-fraud": ["expires", "issued"],
        "inc-2026-assistant-disclosure": ["description"],
        "ini-model-inventory": ["status"],
        "~meta": ["reviewed"],
        "s-broker-portal": ["description"],
        "k-visits-per-day": ["description"],
        "m-claims-doc-extract": ["description", "human_oversight", "stage", "tags"],
        "m-fraud-score": ["description", "human_oversight"],
        "p-priya-nair": ["description"],
        "r-fraud-lead": ["description"],
        "r-model-risk-head": ["description"],
        "r-mv-analyst": ["description"],
        "uc-field-routing": ["description"],
        "v-geomatix": ["contract_end", "description"],
        "v-riskwise": ["description"],
        "w-claims-intake": ["description"],
    }
    facts = {
        (entity, field): (change["old"], change["new"])
        for entity, changes in changed.items()
        for field, change in changes.items()
        if field != "description"
    }
    assert facts == {
        ("a-property-field-visits", "status"): ("denied", "granted"),
        ("a-router-inspection", "status"): ("pending", "granted"),
        ("m-claims-doc-extract", "human_oversight"): (None, "in_the_loop"),
        ("m-claims-doc-extract", "stage"): ("experiment", "pilot"),
        ("m-claims-doc-extract", "tags"): (["genai", "prototype"], ["genai"]),
        ("m-fraud-score", "human_oversight"): ("none", "in_the_loop"),
        ("v-geomatix", "contract_end"): ("2026-06-30", "2028-06-30"),
        ("ev-ra-fraud", "issued"): ("2025-10-01", "2026-11-01"),
        ("ev-ra-fraud", "expires"): ("2026-10-01", "2027-11-01"),
        ("ini-model-inventory", "status"): ("in_progress", "done"),
        ("~meta", "reviewed"): ("2025-09-30", "2026-11-02"),
    }
    assert changed["c-fraud-audit"]["description"]["new"] is None
    assert diff["counts"]["entities"] == {"added": 13, "removed": 2, "changed": 19}


def test_moves_and_relationships(diff: dict[str, Any]) -> None:
    assert [m["text"] for m in diff["moves"]] == [
        "change approval of m-claims-triage: from r-mv-analyst to r-model-risk-head",
        "change approval of m-health-pricing: from r-mv-lead to r-model-risk-head",
    ]
    assert diff["moves"][0] == {
        "right": "change approval",
        "type": "APPROVES_CHANGE",
        "subject": "m-claims-triage",
        "subject_kind": "Model",
        "from": "r-mv-analyst",
        "to": "r-model-risk-head",
        "text": "change approval of m-claims-triage: from r-mv-analyst to r-model-risk-head",
    }
    assert _rels(diff["relationships"]["removed"]) == {
        ("r-fraud-lead", "ESCALATES_TO", "r-siu-mgr"),
        ("r-siu-mgr", "ESCALATES_TO", "r-fraud-lead"),
        ("p-priya-nair", "HOLDS", "r-mv-analyst"),
        ("m-claims-doc-extract", "SUPPLIED_BY", "v-lumen"),
        # format 1.1: the ended delegation and the incident, with their relationships
        ("dl-mv-leave-pricing", "COVERS", "m-health-pricing"),
        ("dl-mv-leave-pricing", "DELEGATED_TO", "p-liam-byrne"),
        ("r-mv-lead", "DELEGATES", "dl-mv-leave-pricing"),
        ("inc-2026-fraud-declines", "INVOLVES", "m-fraud-score"),
        ("r-fraud-lead", "OWNS", "inc-2026-fraud-declines"),
    }
    assert _rels(diff["relationships"]["added"]) == {
        # decision rights given where nobody had them (not moves)
        ("r-model-risk-head", "APPROVES_CHANGE", "m-uw-risk-score"),
        ("r-model-risk-head", "APPROVES_CHANGE", "m-claims-doc-extract"),
        ("r-model-risk-head", "APPROVES_DEPLOYMENT", "m-claims-doc-extract"),
        ("r-claims-head", "CAN_SHUT_DOWN", "m-claims-doc-extract"),
        ("r-field-head", "DECIDES_ACCESS", "a-property-field-visits"),
        ("r-uw-head", "DECIDES_ACCESS", "a-router-inspection"),
        # the new head of model risk, and the escalation loop cut
        ("p-ines-hartmann", "HOLDS", "r-model-risk-head"),
        ("r-fraud-lead", "ESCALATES_TO", "r-claims-head"),
        ("r-siu-mgr", "ESCALATES_TO", "r-claims-head"),
        # controls
        ("c-doc-extract-review", "APPLIES_TO", "m-claims-doc-extract"),
        ("c-mon-fraud-score", "APPLIES_TO", "m-fraud-score"),
        ("r-claims-head", "OPERATES", "c-doc-extract-review"),
        ("r-mlops-lead", "OPERATES", "c-mon-fraud-score"),
        # vendor, KPIs and use cases
        ("m-claims-doc-extract", "SUPPLIED_BY", "v-claimsight"),
        ("uc-field-routing", "MEASURED_BY", "k-visits-per-day"),
        ("uc-cat-accumulation", "MEASURED_BY", "k-cat-accumulation"),
        ("r-chief-actuary", "OWNS", "k-cat-accumulation"),
        ("r-chief-actuary", "SPONSORS", "uc-cat-accumulation"),
        ("r-cro", "FUNDS", "uc-cat-accumulation"),
        ("r-cro", "APPROVES_USE_CASE", "uc-cat-accumulation"),
        ("uc-cat-accumulation", "USES", "m-cat-exposure"),
        ("r-claims-head", "SPONSORS", "uc-claims-summaries"),
        ("r-coo", "FUNDS", "uc-claims-summaries"),
        ("r-cro", "APPROVES_USE_CASE", "uc-claims-summaries"),
        ("uc-claims-summaries", "USES", "m-claims-doc-extract"),
        ("uc-claims-summaries", "DELIVERED_BY", "w-claims-intake"),
        # format 1.1: the transition plan, the new delegation, owners and the new system
        ("dl-mrm-absence-triage", "COVERS", "m-claims-triage"),
        ("dl-mrm-absence-triage", "DELEGATED_TO", "r-mv-lead"),
        ("r-model-risk-head", "DELEGATES", "dl-mrm-absence-triage"),
        ("ini-claimsight", "DELIVERS", "c-doc-extract-review"),
        ("ini-claimsight", "DELIVERS", "m-claims-doc-extract"),
        ("ini-claimsight", "DELIVERS", "s-claimsight-gateway"),
        ("ini-claimsight", "DELIVERS", "v-claimsight"),
        ("ini-field-data-sharing", "DELIVERS", "a-property-field-visits"),
        ("ini-field-data-sharing", "DELIVERS", "a-router-inspection"),
        ("ini-fraud-monitoring", "DELIVERS", "c-mon-fraud-score"),
        ("ini-fraud-monitoring", "DELIVERS", "m-fraud-score"),
        ("ini-model-risk-head", "DELIVERS", "p-ines-hartmann"),
        ("ini-model-risk-head", "DELIVERS", "r-model-risk-head"),
        ("r-coo", "ACCOUNTABLE_FOR", "ini-field-data-sharing"),
        ("r-cro", "ACCOUNTABLE_FOR", "ini-fraud-monitoring"),
        ("r-cro", "ACCOUNTABLE_FOR", "ini-model-risk-head"),
        ("r-cs-head", "OWNS", "inc-2026-assistant-disclosure"),
        ("r-uw-head", "OWNS", "s-broker-portal"),
        ("s-claimsight-gateway", "DEPENDS_ON", "s-claims-platform"),
        ("s-claimsight-gateway", "IN_UNIT", "u-claims"),
        ("s-claimsight-gateway", "SUPPLIED_BY", "v-claimsight"),
    }
    # moved rights are not also listed as added and removed
    assert ("r-mv-lead", "APPROVES_CHANGE", "m-health-pricing") not in _rels(diff["relationships"]["removed"])


def test_findings_fixed_and_introduced(diff: dict[str, Any]) -> None:
    current = json.loads((EXAMPLES / "insurer.expected-findings.json").read_text())
    target = json.loads((EXAMPLES / "insurer-target.expected-findings.json").read_text())
    key = lambda f: (f["check"], tuple(f["subjects"]), f["severity"], f["accountable"])  # noqa: E731
    # the fraud score still misses a control its policy requires (fewer kinds: one finding, same subjects)
    kept = {("vendor-concentration", ("v-riskwise",)), ("policy-missing-control", ("m-fraud-score",))}
    assert [key(f) for f in diff["findings"]["fixed"]] == [
        key(f) for f in current if (f["check"], tuple(f["subjects"])) not in kept
    ]
    assert [key(f) for f in diff["findings"]["introduced"]] == [
        key(f) for f in target if (f["check"], tuple(f["subjects"])) not in kept
    ]
    assert diff["findings"]["unchanged"] == 2
    assert all(f["remediation"] and f["message"] for f in diff["findings"]["fixed"])


def test_same_scenario_has_no_differences(db: Database, pair: tuple[str, str]) -> None:
    same = diff_scenarios(db, load_catalog(), pair[0], pair[0], AS_OF)
    assert same["counts"] == {
        "entities": {"added": 0, "removed": 0, "changed": 0},
        "relationships": {"added": 0, "removed": 0},
        "moves": 0,
        "findings": {"fixed": 0, "introduced": 0, "unchanged": 24},
    }


def test_unknown_scenario(db: Database, pair: tuple[str, str]) -> None:
    with pytest.raises(NotFound):
        diff_scenarios(db, load_catalog(), pair[0], "no-such-scenario-x", AS_OF)


class _Ctx:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.debug = False


def test_diff_command(db: Database, test_settings: Settings, pair: tuple[str, str], diff: dict[str, Any]) -> None:
    from cli.diff_cmd import register

    app = typer.Typer()
    register(app, lambda: _Ctx(test_settings, db))

    @app.command("noop")
    def _noop() -> None:
        pass

    runner = CliRunner()
    a, b = pair
    as_json = runner.invoke(app, ["diff", a, b, "--as-of", "2026-11-23", "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == diff
    text = runner.invoke(app, ["diff", a, b, "--as-of", "2026-11-23"])
    assert text.exit_code == 0, text.output
    assert "change approval of m-health-pricing: from r-mv-lead to r-model-risk-head" in text.output
    assert "The target fixes these (22" in text.output and "The target introduces these (5" in text.output
    missing = runner.invoke(app, ["diff", a, "no-such-scenario-x"])
    assert missing.exit_code == 1
    assert "no-such-scenario-x" in missing.output
