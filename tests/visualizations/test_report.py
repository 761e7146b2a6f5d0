"""The weekly gap report: snapshots, new/resolved/persisting with weeks open, the output files,
the stored reports, the command, and report.html in headless Chromium (no network)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from openpyxl import load_workbook
from typer.testing import CliRunner

from graph.db import Database
from graph.errors import NotFound
from graph.settings import Settings
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.waivers import Waiver, replace_waivers
from tests.browser.chromium import CHROMIUM_ARGS, CHROMIUM_PATH
from visualizations.report import build_report, compose_report, render_html, snapshot_dates, stored_report, write_report

REPO = Path(__file__).resolve().parents[2]
INSURER = REPO / "examples" / "insurer"
SCREENSHOT = REPO / "docs" / "img" / "report-insurer.png"
WEEK1, WEEK2, WEEK3 = dt.date(2026, 11, 16), dt.date(2026, 11, 23), dt.date(2026, 11, 30)

# the fraud score's human in the loop also meets its policy's oversight (format 1.1 example)
FIXED = {
    ("high-risk-without-human-oversight", ("m-fraud-score",)),
    ("policy-weak-oversight", ("m-fraud-score",)),
    ("expired-vendor-contract", ("v-geomatix",)),
}
ADDED = ("kpi-without-owner", ("k-broker-nps",))


def _ids(items: list[dict[str, Any]]) -> set[tuple[str, tuple[str, ...]]]:
    return {(f["check"], tuple(f["subjects"])) for f in items}


def _insurer_findings() -> set[tuple[str, tuple[str, ...]]]:
    return _ids(json.loads((REPO / "examples" / "insurer.expected-findings.json").read_text()))


def changed_insurer(tmp_path: Path) -> Path:
    """The insurer a week later: the fraud score gets a human in the loop, the Geomatix contract is
    renewed, and a new KPI is added without an owner."""
    bundle = tmp_path / "insurer-week2"
    shutil.copytree(INSURER, bundle)
    models = bundle / "models.yaml"
    text = models.read_text()
    block = text.index("- id: m-fraud-score")
    start = text.index("human_oversight: none", block)
    models.write_text(text[:start] + "human_oversight: in_the_loop" + text[start + len("human_oversight: none") :])
    vendors = bundle / "vendors.csv"
    vendors.write_text(
        vendors.read_text().replace(
            "Geomatix Routing,r-field-head,2026-06-30", "Geomatix Routing,r-field-head,2028-06-30"
        )
    )
    kpis = bundle / "kpis.csv"
    kpis.write_text(kpis.read_text().rstrip("\n") + '\nk-broker-nps,Broker <NPS> & "loyalty",,>= 40,\n')
    return bundle


@pytest.fixture
def two_weeks(db: Database, scenario: str, tmp_path: Path) -> dict[str, Any]:
    """Week 1 on the insurer with two waivers; week 2 on the changed insurer."""
    catalog = load_catalog()
    load_bundle(db, INSURER, scenario)
    replace_waivers(
        db,
        scenario,
        [
            Waiver("vendor-concentration", ("v-riskwise",), "r-cro", "Exit plan due Q3 2027", dt.date(2026, 11, 20)),
            Waiver("use-case-without-kpi", ("uc-field-routing",), "r-coo", "KPI <being> agreed", dt.date(2026, 12, 1)),
        ],
    )
    first = build_report(db, catalog, scenario, WEEK1)
    load_bundle(db, changed_insurer(tmp_path), scenario)
    second = build_report(db, catalog, scenario, WEEK2)
    return {"catalog": catalog, "first": first, "second": second}


def test_first_report_has_everything_new(two_weeks: dict[str, Any], scenario: str) -> None:
    first = two_weeks["first"]
    assert first["scenario"] == scenario
    assert first["as_of"] == "2026-11-16"
    assert first["previous_as_of"] is None
    assert _ids(first["new"]) == _insurer_findings()
    assert first["resolved"] == [] and first["persisting"] == []
    assert first["counts"] == {
        "open": {"critical": 5, "high": 13, "medium": 4, "low": 0, "total": 22},
        "change": None,
        "waived": 2,
        "new": 24,
        "resolved": 0,
        "persisting": 0,
    }


def test_second_report_new_resolved_persisting_and_weeks_open(two_weeks: dict[str, Any]) -> None:
    second = two_weeks["second"]
    assert second["previous_as_of"] == "2026-11-16"
    assert _ids(second["new"]) == {ADDED}
    assert _ids(second["resolved"]) == FIXED
    assert _ids(second["persisting"]) == _insurer_findings() - FIXED
    assert {(f["check"], f["weeks_open"], f["first_seen"]) for f in second["persisting"]} == {
        (f[0], 1, "2026-11-16") for f in _insurer_findings() - FIXED
    }
    assert "weeks_open" not in second["new"][0] and "weeks_open" not in second["resolved"][0]
    # items are findings as in gap-checks.md (persisting ones also carry weeks_open and first_seen)
    # (the policy checks of catalog 1.1 add `details`)
    spec_keys = {"check", "severity", "subjects", "accountable", "message", "remediation"}
    assert all(set(f) - {"waived", "details"} == spec_keys for f in second["new"] + second["resolved"])
    assert all(set(f) - {"waived", "details"} == spec_keys | {"weeks_open", "first_seen"} for f in second["persisting"])
    assert {f["check"] for f in second["persisting"] if "details" in f} == {
        "policy-missing-control",
        "policy-missing-evidence",
        "policy-missing-right",
    }
    assert second["counts"] == {
        "open": {"critical": 4, "high": 11, "medium": 5, "low": 1, "total": 21},
        "change": {"critical": -1, "high": -2, "medium": 1, "low": 1, "total": -1},
        "waived": 1,
        "new": 1,
        "resolved": 3,
        "persisting": 21,
    }
    waivers = second["waivers"]
    assert [(w["check"], w["expires"]) for w in waivers["newly_expired"]] == [("vendor-concentration", "2026-11-20")]
    assert [(w["check"], w["expires"]) for w in waivers["expiring_soon"]] == [("use-case-without-kpi", "2026-12-01")]
    assert [(p["as_of"], p["total"]) for p in second["trend"]] == [("2026-11-16", 22), ("2026-11-23", 21)]


def test_who_must_act_and_per_unit(two_weeks: dict[str, Any]) -> None:
    second = two_weeks["second"]
    roles = {g["role"]: g for g in second["by_role"]}
    # open findings only: the waived use-case-without-kpi (r-field-head) is not listed
    assert sum(g["open"]["total"] for g in second["by_role"]) == 21
    field = roles["r-field-head"]
    assert [f["check"] for f in field["findings"]] == ["blocked-data-dependency"]
    assert field["holders"] and all(h["id"].startswith("p-") for h in field["holders"])
    assert roles["r-cro"]["findings"][0]["check"] == "vacant-decision-role"
    nobody = roles[None]
    # oldest first: the persisting deadlock (2026-11-16) before the new KPI finding (2026-11-23)
    assert [(f["check"], f["first_seen"]) for f in nobody["findings"]] == [
        ("data-ownership-deadlock", "2026-11-16"),
        ("incident-without-owner", "2026-11-16"),
        ("system-without-owner", "2026-11-16"),
        ("tom-review-overdue", "2026-11-16"),
        ("kpi-without-owner", "2026-11-23"),
    ]
    assert second["by_role"][-1]["role"] is None
    assert sum(u["open"]["total"] for u in second["by_unit"]) == 21
    assert sum(u["new"] for u in second["by_unit"]) == 1


def test_same_date_rerun_replaces_the_snapshot_and_weeks_accumulate(
    db: Database, scenario: str, two_weeks: dict[str, Any]
) -> None:
    catalog = two_weeks["catalog"]
    again = build_report(db, catalog, scenario, WEEK2)
    assert snapshot_dates(db, scenario) == [WEEK1, WEEK2]
    assert again == two_weeks["second"]
    assert stored_report(db, catalog, scenario, WEEK2) == again
    third = build_report(db, catalog, scenario, WEEK3)
    assert third["previous_as_of"] == "2026-11-23"
    assert third["new"] == [] and third["resolved"] == []
    weeks = {(f["check"], tuple(f["subjects"])): f["weeks_open"] for f in third["persisting"]}
    assert weeks == {**{i: 2 for i in _insurer_findings() - FIXED}, ADDED: 1}
    assert snapshot_dates(db, scenario) == [WEEK1, WEEK2, WEEK3]
    assert stored_report(db, catalog, scenario, None) == third
    assert stored_report(db, catalog, scenario, WEEK1) == two_weeks["first"]
    with pytest.raises(NotFound):
        stored_report(db, catalog, scenario, dt.date(2026, 11, 17))


def test_no_snapshot_is_not_found(db: Database, scenario: str) -> None:
    with pytest.raises(NotFound):
        stored_report(db, load_catalog(), scenario, None)


def test_output_files(two_weeks: dict[str, Any], tmp_path: Path) -> None:
    second = two_weeks["second"]
    paths = write_report(second, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        ["report.html", "report.md", "findings.csv", "findings.xlsx", "report.json", "trend.png"]
    )
    assert json.loads(paths["report.json"].read_text()) == second
    assert paths["trend.png"].read_bytes().startswith(b"\x89PNG")
    html = paths["report.html"].read_text()
    assert "data:image/png;base64," in html
    assert "http://" not in html and "https://" not in html and "<script" not in html
    # user text is escaped
    assert "Broker &lt;NPS&gt; &amp; &#34;loyalty&#34;" in html and "<NPS>" not in html
    md = paths["report.md"].read_text()
    assert "| critical | 4 | −1 |" in md and "Broker \\<NPS\\>" in md
    with paths["findings.csv"].open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 22 + 3
    assert {r["status"] for r in rows} == {"new", "persisting", "resolved"}
    sheet = load_workbook(paths["findings.xlsx"], read_only=True)["findings"]
    assert sum(1 for _ in sheet.iter_rows()) == 1 + 25


class _Ctx:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.debug = False


def test_report_command(db: Database, scenario: str, test_settings: Settings, tmp_path: Path) -> None:
    from cli.report_cmd import register

    app = typer.Typer()
    register(app, lambda: _Ctx(test_settings, db))

    @app.command("noop")
    def _noop() -> None:  # a second command, so that `report` stays a subcommand
        pass

    runner = CliRunner()
    missing = runner.invoke(app, ["report", "--scenario", scenario, "--as-of", "2026-11-16", "--out", str(tmp_path)])
    assert missing.exit_code == 1
    load_bundle(db, INSURER, scenario)
    bad = runner.invoke(app, ["report", "--scenario", scenario, "--as-of", "16/11/2026"])
    assert bad.exit_code == 2
    ok = runner.invoke(app, ["report", "--scenario", scenario, "--as-of", "2026-11-16", "--out", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert "24 new" in ok.output
    assert json.loads((tmp_path / "report.json").read_text())["counts"]["open"]["total"] == 24


# ---------------------------------------------------------------------------------------------
# report.html in headless Chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM_PATH, args=list(CHROMIUM_ARGS))
        yield instance
        instance.close()


def test_report_html_in_chromium_shows_counts_without_network(
    browser: Any, two_weeks: dict[str, Any], tmp_path: Path
) -> None:
    paths = write_report(two_weeks["second"], tmp_path / "out")
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(paths["report.html"].as_uri())
    page.wait_for_load_state("networkidle")
    cards = {
        s: page.locator(f"#headline .card[data-severity={s}] .n").inner_text()
        for s in ("critical", "high", "medium", "low", "total")
    }
    assert cards == {"critical": "4", "high": "11", "medium": "5", "low": "1", "total": "21"}
    assert "−1 since 2026-11-16" in page.locator("#headline .card[data-severity=critical]").inner_text()
    assert "1 new, 2 resolved, 12 still open" in page.locator("#movement").inner_text()
    chart_width = page.evaluate("document.querySelector('img.trend').naturalWidth")
    assert chart_width > 0
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    # The README's picture is refreshed only on request, so a test run leaves the work tree clean.
    target = SCREENSHOT if os.environ.get("TOMGRAPH_UPDATE_SCREENSHOTS") else tmp_path / SCREENSHOT.name
    page.screenshot(path=str(target), full_page=False)
    assert target.stat().st_size > 10_000
    page.close()


def test_render_html_escapes_user_text(two_weeks: dict[str, Any]) -> None:
    report = json.loads(json.dumps(two_weeks["second"]))
    report["scenario"] = "<script>alert(1)</script>"
    html = render_html(report, png=b"\x89PNG")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_control_characters_are_shown_as_replacement_characters_and_kept_in_report_json(tmp_path: Path) -> None:
    finding = {
        "check": "model-without-owner",
        "severity": "high",
        "subjects": ["m-1"],
        "accountable": None,
        "message": "nul\x00inside, bell\x07, tab\tstays",
        "remediation": "Name an owner.",
    }
    report = compose_report("s", dt.date(2026, 11, 22), [finding], None, {}, [], [])
    paths = write_report(report, tmp_path)
    shown = "nul\ufffdinside, bell\ufffd, tab\tstays"
    assert shown in paths["report.html"].read_text(encoding="utf-8")
    assert "\x00" not in paths["report.html"].read_text(encoding="utf-8")
    assert "nul\ufffdinside, bell\ufffd, tab\tstays" in paths["report.md"].read_text(encoding="utf-8")
    sheet = load_workbook(paths["findings.xlsx"]).active
    header = [c.value for c in sheet[1]]
    assert sheet.cell(row=2, column=header.index("message") + 1).value == shown
    assert json.loads(paths["report.json"].read_text(encoding="utf-8"))["new"][0]["message"] == finding["message"]
