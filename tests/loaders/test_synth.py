"""`tomgraph synth`: deterministic, right-sized, valid bundles whose expected.json covers every check."""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.synth_cmd import register
from events.synth import generate_log, write_for_synth
from graph.ontology import KINDS
from loaders import read_bundle, synth
from queries.catalog import BUILTIN_CHECK_DIR, FIXTURE_SUFFIXES, load_catalog

ENTITY_KINDS = tuple(k for k in KINDS if not k.singleton)


@pytest.fixture(scope="module")
def small() -> tuple[dict, dict]:
    return synth.generate("small", 0)


@pytest.fixture(scope="module")
def medium() -> tuple[dict, dict]:
    return synth.generate("medium", 0)


def _write(tmp_path: Path, name: str, size: str, seed: int) -> tuple[bytes, bytes]:
    synth.write(size, seed, tmp_path / name)
    return (tmp_path / name / "bundle.json").read_bytes(), (tmp_path / name / "expected.json").read_bytes()


def test_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    assert _write(tmp_path, "a", "small", 7) == _write(tmp_path, "b", "small", 7)


def test_different_seeds_write_different_bytes(tmp_path: Path) -> None:
    a_bundle, a_expected = _write(tmp_path, "a", "small", 1)
    b_bundle, b_expected = _write(tmp_path, "b", "small", 2)
    assert a_bundle != b_bundle
    assert a_expected != b_expected


def test_medium_is_deterministic_too(medium: tuple[dict, dict]) -> None:
    assert synth.generate("medium", 0) == medium


def _with_events(bundle: dict, expected: dict, scratch: Path) -> dict:
    """`expected` as `synth.write` completes it: with the planted event log's findings."""
    scratch.mkdir()
    write_for_synth(bundle, expected, scratch, date.fromisoformat(expected["as_of"]))
    return expected


def test_written_bundle_is_the_single_file_json_form(tmp_path: Path) -> None:
    synth.write("small", 3, tmp_path)
    bundle, expected = synth.generate("small", 3)
    assert json.loads((tmp_path / "bundle.json").read_text()) == bundle
    expected = _with_events(bundle, expected, tmp_path / "again")
    assert json.loads((tmp_path / "expected.json").read_text()) == expected
    assert list(bundle) == ["format", "meta", *(k.section for k in ENTITY_KINDS)]
    assert bundle["format"] == 1.1


def test_expected_json_is_written_as_tomgraph_check_prints_json(tmp_path: Path) -> None:
    synth.write("small", 3, tmp_path)
    expected = _with_events(*synth.generate("small", 3), tmp_path / "again")
    assert (tmp_path / "expected.json").read_text(encoding="utf-8") == json.dumps(
        expected, indent=2, ensure_ascii=False
    ) + "\n"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_small_has_about_a_thousand_entities(seed: int) -> None:
    entities, _ = synth.count(synth.generate("small", seed)[0])
    assert 800 <= entities <= 1250


def test_medium_has_about_20k_entities_and_100k_relationships(medium: tuple[dict, dict]) -> None:
    entities, relationships = synth.count(medium[0])
    assert 16_000 <= entities <= 24_000
    assert 80_000 <= relationships <= 120_000


@pytest.mark.parametrize("size", ["small", "medium"])
def test_every_id_is_unique_across_the_bundle(size: str, small: tuple[dict, dict], medium: tuple[dict, dict]) -> None:
    bundle = small[0] if size == "small" else medium[0]
    ids = [e["id"] for k in ENTITY_KINDS for e in bundle[k.section]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("size", ["small", "medium"])
def test_every_reference_resolves_to_an_entity_of_the_right_kind(
    size: str, small: tuple[dict, dict], medium: tuple[dict, dict]
) -> None:
    bundle = small[0] if size == "small" else medium[0]
    section_of = {e["id"]: k.section for k in ENTITY_KINDS for e in bundle[k.section]}
    wrong = []
    for k in ENTITY_KINDS:
        for e in bundle[k.section]:
            for ref in k.references:
                value = e.get(ref.name)
                for target in (value if isinstance(value, list) else [value]) if value is not None else []:
                    if section_of.get(target) not in ref.targets:
                        wrong.append((e["id"], ref.name, target))
    assert wrong == []


@pytest.mark.parametrize("size", ["small", "medium"])
def test_no_reference_list_repeats_an_id(size: str, small: tuple[dict, dict], medium: tuple[dict, dict]) -> None:
    bundle = small[0] if size == "small" else medium[0]
    repeats = [
        (e["id"], ref.name)
        for k in ENTITY_KINDS
        for e in bundle[k.section]
        for ref in k.references
        if isinstance(e.get(ref.name), list) and len(set(e[ref.name])) != len(e[ref.name])
    ]
    assert repeats == []


def test_small_bundle_passes_the_loader_validation(tmp_path: Path) -> None:
    synth.write("small", 0, tmp_path)
    assert read_bundle(tmp_path / "bundle.json").count() == synth.count(synth.generate("small", 0)[0])[0]


def test_every_catalog_check_is_planted(small: tuple[dict, dict], medium: tuple[dict, dict]) -> None:
    assert len(synth.CHECK_IDS) == 39
    catalog = {
        p.name.split(".")[0]
        for p in BUILTIN_CHECK_DIR.glob("*.yaml")
        if not any(p.name.endswith(suffix + ".yaml") for suffix in FIXTURE_SUFFIXES)
    }
    event_checks = {c.id for c in load_catalog().checks if c.spec.events}
    assert len(event_checks) == 8
    assert catalog == set(synth.CHECK_IDS) | event_checks
    for bundle, expected in (small, medium):
        assert {f["check"] for f in expected["findings"]} == set(synth.CHECK_IDS)
        log = generate_log(bundle, date(2026, 3, 1), weeks=13, seed=0, per_check=3, clean_models=500)
        assert {f["check"] for f in log.findings} == event_checks


def test_expected_has_the_check_run_shape_and_order(medium: tuple[dict, dict]) -> None:
    expected = medium[1]
    assert list(expected) == ["scenario", "as_of", "findings"]
    assert expected["scenario"] == "current"
    assert expected["as_of"] == "2026-06-30"
    findings = expected["findings"]
    keys = ["check", "severity", "subjects", "accountable", "message", "remediation"]
    assert all(list(f) == keys + (["details"] if f["check"] in synth.DETAILS_CHECKS else []) for f in findings)
    assert all(list(f["details"]) == ["missing"] and f["details"]["missing"] for f in findings if "details" in f)
    assert findings == sorted(findings, key=lambda f: (synth.SEVERITY_RANK[f["severity"]], f["check"], f["subjects"]))
    identities = [(f["check"], frozenset(f["subjects"])) for f in findings]
    assert len(identities) == len(set(identities))


def _without_texts(findings: list[dict]) -> list[dict]:
    return [{k: f[k] for k in ("check", "severity", "subjects", "accountable")} for f in findings]


def test_planted_gaps_are_every_finding_the_spec_derives(medium: tuple[dict, dict]) -> None:
    bundle, expected = medium
    assert synth.derive_findings(bundle) == _without_texts(expected["findings"])


def test_the_cross_check_notices_an_unplanted_gap(small: tuple[dict, dict]) -> None:
    bundle = copy.deepcopy(small[0])
    planted = {s for f in small[1]["findings"] for s in f["subjects"]}
    model = next(m for m in bundle["models"] if m["stage"] == "production" and m["id"] not in planted)
    del model["shutdown_authority"]
    extra = [f for f in synth.derive_findings(bundle) if f not in _without_texts(small[1]["findings"])]
    assert extra == [
        {"check": "no-shutdown-authority", "severity": "high", "subjects": [model["id"]], "accountable": model["owner"]}
    ]


def test_message_and_remediation_come_from_the_check_files(small: tuple[dict, dict]) -> None:
    catalog = load_catalog()
    model = small[0]["models"][0]
    finding = {"check": "no-shutdown-authority", "severity": "high", "subjects": [model["id"]], "accountable": None}
    template = catalog.get("no-shutdown-authority").spec.message
    assert template == "Nobody has the authority to shut down {model}"
    assert synth.with_texts([finding], small[0]) == [
        {
            **finding,
            "message": f"Nobody has the authority to shut down {model['name']}",
            "remediation": catalog.get("no-shutdown-authority").spec.remediation,
        }
    ]


# The phrase that tells each planted variant of a check's message apart (see its check file).
PLANTED_VARIANTS = {
    "overdue-model-review": ["has never been reviewed", "was last reviewed on"],
    "blocked-data-dependency": [" consumes ", " reads "],
    "broken-escalation-chain": ["runs into a loop at", "escalates to no one", "which is not an executive role"],
    "self-approved-model": ["change-approved by", " (as "],
    "vacant-decision-role": [
        ": deployment approver of",
        ": operator of",
        ": approver of access row a-",
        ": approver of",
        ": owner of",
    ],  # budget owner: the sixth plant, in large only
    "late-incident-report": ["was reported on", "is still not reported"],
    "policy-review-overdue": ["has never been reviewed", "was last reviewed on"],
    "policy-weak-oversight": ["runs with no human oversight", "runs with on_the_loop human oversight"],
    "policy-missing-right": [": owner", ": deployment_approvers, shutdown_authority"],
    "policy-missing-control": [": monitoring", ": human_review, model_review"],
    "policy-missing-evidence": [": technical_documentation", ": risk_assessment", ": technical_documentation, risk"],
    "delegated-self-approval": ["through delegation dg-", ", delegation dg-"],
}


def test_every_planted_variant_of_a_message_is_in_medium(medium: tuple[dict, dict]) -> None:
    """So that comparing medium's expected.json with a check run covers every way synth fills a template."""
    messages: dict[str, list[str]] = {}
    for f in medium[1]["findings"]:
        messages.setdefault(f["check"], []).append(f["message"])
    missing = [
        (check, phrase)
        for check, phrases in PLANTED_VARIANTS.items()
        for phrase in phrases
        if not any(phrase in m for m in messages[check])
    ]
    assert missing == []


def test_names_with_braces_are_printed_as_they_are(small: tuple[dict, dict]) -> None:
    bundle = copy.deepcopy(small[0])
    for k in ENTITY_KINDS:
        for e in bundle[k.section]:
            if "name" in e:
                e["name"] = "{model}{0}{{x}} " + e["name"]
    hostile = synth.with_texts(_without_texts(small[1]["findings"]), bundle)
    plain = small[1]["findings"]
    assert [f["message"].replace("{model}{0}{{x}} ", "") for f in hostile] == [f["message"] for f in plain]
    # every message but the TOM review's, which names no entity
    assert all(f["message"].count("{model}{0}{{x}} ") >= 1 for f in hostile if f["check"] != "tom-review-overdue")


def test_severity_rises_to_critical_for_high_risk_models(medium: tuple[dict, dict]) -> None:
    bundle, expected = medium
    tier = {m["id"]: m.get("risk_tier") for m in bundle["models"]}
    for f in expected["findings"]:
        if f["check"] in ("model-without-change-approver", "self-approved-model", "delegated-self-approval"):
            assert f["severity"] == ("critical" if tier[f["subjects"][0]] == "high" else "high")


def test_the_background_with_its_deputies_has_no_finding() -> None:
    """Policies, evidence and delegations included: every finding of a bundle is a planted one."""
    background = synth._Synth(synth.SIZES["small"], 1)
    background.build()
    background.deputies()
    bundle = background.bundle()
    assert sorted(p["risk_tier"] for p in bundle["policies"]) == ["high", "limited", "minimal"]
    rights = Counter(d["right"] for d in bundle["delegations"])
    # a holiday stand-in per department, a steward per division, the validation lead and three near misses
    assert rights == {"shutdown": len(background.departments), "access_approval": 3, "change_approval": 4}
    documented = {m for e in bundle["evidence"] for m in e["about"]}
    assert documented == {
        m["id"] for m in bundle["models"] if m["stage"] == "production" and m.get("risk_tier") == "high"
    }
    assert synth.derive_findings(bundle) == []


def test_a_catalog_10_plant_that_breaks_its_policy_is_listed_by_the_policy_check_too(
    medium: tuple[dict, dict],
) -> None:
    bundle, expected = medium
    tier = {m["id"]: m.get("risk_tier") for m in bundle["models"]}
    policy = {p["risk_tier"]: p for p in bundle["policies"]}
    by_check: dict[str, dict[str, dict]] = {}
    for f in expected["findings"]:
        by_check.setdefault(f["check"], {})[f["subjects"][0]] = f
    echoes = {"model-without-owner": "owner", "no-shutdown-authority": "shutdown_authority"}
    seen = 0
    for check, right in echoes.items():
        for model in by_check[check]:
            echo = by_check["policy-missing-right"].get(model)
            if right in policy[tier[model]]["require_rights"]:
                assert echo is not None and echo["details"] == {"missing": [right]}
                seen += 1
            else:
                assert echo is None
    assert seen >= 6
    for model in by_check["overdue-model-review"]:
        assert (
            by_check["policy-review-overdue"][model]["accountable"]
            == by_check["overdue-model-review"][model]["accountable"]
        )


def test_medium_plants_every_shape_of_a_single_point_of_shutdown(medium: tuple[dict, dict]) -> None:
    """So that comparing medium's expected.json with a check run covers each way synth plants it."""
    bundle, expected = medium
    holds = {p["id"]: p["holds"] for p in bundle["people"]}
    held = {r for roles in holds.values() for r in roles}
    deputy = {r["id"]: r.get("deputy") for r in bundle["roles"]}
    stand_ins = {d["from"]: d for d in bundle["delegations"] if d["right"] == "shutdown"}
    shapes = []
    for f in expected["findings"]:
        if f["check"] == "single-point-of-shutdown":
            roles = holds[f["subjects"][0]]
            if any(deputy[r] in roles for r in roles):
                shapes.append("holds its own deputy")
            elif any(deputy[r] and deputy[r] not in held for r in roles):
                shapes.append("deputy nobody holds")
            elif any(r in stand_ins and stand_ins[r]["valid_to"] < expected["as_of"] for r in roles):
                shapes.append("stand-in's delegation over")
            elif len(roles) == 2:
                shapes.append("two roles")
            else:
                shapes.append("alone")
    assert sorted(shapes) == sorted(
        ["alone", "holds its own deputy", "deputy nobody holds", "stand-in's delegation over", "two roles"]
    )


def test_unknown_size_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown size"):
        synth.generate("huge")


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """tomgraph"""

    register(app)
    return app


def test_cli_writes_both_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["synth", "--size", "small", "--seed", "4", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "bundle.json").read_bytes() == _write(tmp_path, "ref", "small", 4)[0]
    assert json.loads((tmp_path / "out" / "expected.json").read_text())["as_of"] == "2026-06-30"


def test_cli_refuses_an_unknown_size(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["synth", "--size", "huge", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert not (tmp_path / "bundle.json").exists()


def test_cli_reports_an_unwritable_directory_in_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = CliRunner().invoke(_app(), ["synth", "--size", "small", "--out", str(blocker)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
