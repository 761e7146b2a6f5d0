"""The weekly gap report: snapshots, new/resolved/persisting with weeks open, the output files,
the stored reports, the command, and report.html in headless Chromium (no network)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from openpyxl import load_workbook
from pypdf import PdfReader
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

FIXED = {
    ("high-risk-without-human-oversight", ("m-fraud-score",)),
    ("policy-weak-oversight", ("m-fraud-score",)),
    ("expired-vendor-contract", ("v-geomatix",)),
}
ADDED = ("kpi-without-owner", ("k-broker-nps",))
TOP_OPEN_WEEK2 = [
    ("critical", "data-ownership-deadlock"),
    ("critical", "delegated-self-approval"),
    ("critical", "late-incident-report"),
    ("critical", "model-without-change-approver"),
    ("high", "blocked-data-dependency"),
]


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
        "waived": {"critical": 0, "high": 0, "medium": 2, "low": 0, "total": 2},
        "change": None,
        "new": {"open": 22, "waived": 2},
        "persisting": {"open": 0, "waived": 0},
        "resolved": 0,
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
    # items are findings as in gap-checks.md (some with `details`; persisting ones also with weeks_open, first_seen)
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
        "waived": {"critical": 0, "high": 0, "medium": 1, "low": 0, "total": 1},
        "change": {"critical": -1, "high": -2, "medium": 1, "low": 1, "total": -1},
        "new": {"open": 1, "waived": 0},
        "persisting": {"open": 20, "waived": 1},
        "resolved": 3,
    }
    # the headline adds up: open = new + still open, waived apart
    c = second["counts"]
    assert c["open"]["total"] == c["new"]["open"] + c["persisting"]["open"]
    assert c["waived"]["total"] == c["new"]["waived"] + c["persisting"]["waived"]
    # the maturity scorecard, each unit's stage compared with the previous report's
    assert two_weeks["first"]["maturity"]["movement"] == "new"
    assert (second["maturity"]["stage"], second["maturity"]["previous"], second["maturity"]["movement"]) == (
        "foundation",
        "foundation",
        "unchanged",
    )
    assert {(u["stage"], u["movement"]) for u in second["maturity"]["units"]} == {
        ("foundation", "unchanged"),
        ("initiate", "unchanged"),
    }
    assert len(second["maturity"]["units"]) == len(two_weeks["first"]["maturity"]["units"]) > 5
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
    # most severe first, then oldest
    assert [(f["check"], f["first_seen"]) for f in nobody["findings"]] == [
        ("data-ownership-deadlock", "2026-11-16"),
        ("incident-without-owner", "2026-11-16"),
        ("system-without-owner", "2026-11-16"),
        ("tom-review-overdue", "2026-11-16"),
        ("kpi-without-owner", "2026-11-23"),
    ]
    # most severe open finding first, then by open count: nobody's critical deadlock ranks with
    # the roles that have a critical finding, not last; r-field-head's waived finding is counted apart
    assert [(g["role"], g["worst"], g["open"]["total"], g["waived"]) for g in second["by_role"]] == [
        ("r-fraud-lead", "critical", 5, 0),
        ("r-uw-head", "critical", 5, 0),
        (None, "critical", 5, 0),
        ("r-claims-head", "high", 2, 0),
        ("r-field-head", "high", 1, 1),
        ("r-coo", "high", 1, 0),
        ("r-cro", "high", 1, 0),
        ("r-chief-actuary", "medium", 1, 0),
    ]
    assert sum(u["open"]["total"] for u in second["by_unit"]) == 21
    assert sum(u["new"] for u in second["by_unit"]) == 1
    assert sum(u["waived"] for u in second["by_unit"]) == 1
    checks = {c["check"]: c for c in second["by_check"]}
    assert sum(c["open"] for c in second["by_check"]) == 21
    assert checks["use-case-without-kpi"]["waived"] == 1
    assert checks["kpi-without-owner"] == {
        "check": "kpi-without-owner",
        "severity": "low",
        "open": 1,
        "waived": 0,
        "new": 1,
        "nobody_accountable": 1,
        "roles": 0,
    }
    # urgency order: worst open severity, then open count; a check whose findings are all waived last
    assert [(c["check"], c["open"]) for c in second["by_check"]] == [
        ("data-ownership-deadlock", 1),
        ("delegated-self-approval", 1),
        ("late-incident-report", 1),
        ("model-without-change-approver", 1),
        ("blocked-data-dependency", 2),
        ("broken-escalation-chain", 1),
        ("experiment-in-production", 1),
        ("overdue-initiative", 1),
        ("policy-missing-control", 1),
        ("policy-missing-evidence", 1),
        ("policy-missing-right", 1),
        ("self-approved-model", 1),
        ("unmonitored-production-model", 1),
        ("vacant-decision-role", 1),
        ("incident-without-owner", 1),
        ("model-without-business-case", 1),
        ("system-without-owner", 1),
        ("tom-review-overdue", 1),
        ("vendor-concentration", 1),
        ("kpi-without-owner", 1),
        ("use-case-without-kpi", 0),
    ]


def test_accepted_risk_register_lists_waivers_in_force(two_weeks: dict[str, Any]) -> None:
    # week 1: both waivers in force; week 2: the vendor-concentration one expired on 2026-11-20
    first, second = two_weeks["first"], two_weeks["second"]
    assert [(r["check"], r["severity"], r["expires"], r["accepts_finding"]) for r in first["accepted_risks"]] == [
        ("vendor-concentration", "medium", "2026-11-20", True),
        ("use-case-without-kpi", "medium", "2026-12-01", True),
    ]
    assert second["accepted_risks"] == [
        {
            "check": "use-case-without-kpi",
            "severity": "medium",
            "subjects": ["uc-field-routing"],
            "accepted_by": "r-coo",
            "accepted_by_name": second["accepted_risks"][0]["accepted_by_name"],
            "holders": second["accepted_risks"][0]["holders"],
            "reason": "KPI <being> agreed",
            "expires": "2026-12-01",
            "accepts_finding": True,
        }
    ]
    assert second["accepted_risks"][0]["accepted_by_name"] == "Chief Operating Officer"


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
    paths = write_report(second, tmp_path / "out", pdf=False)
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
    assert "24 open (24 new, 0 still open); 0 more accepted by a waiver" in ok.output
    assert (tmp_path / "summary.pdf").read_bytes().startswith(b"%PDF")
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
    paths = write_report(two_weeks["second"], tmp_path / "out", pdf=False)
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
    assert page.locator("#movement").inner_text() == (
        "21 open (1 new, 20 still open); 1 more accepted by a waiver (0 new, 1 still accepted), "
        "not counted as open; 3 resolved since 2026-11-16."
    )
    assert "+ 1 waived" in page.locator("#headline .card[data-severity=medium]").inner_text()
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
    paths = write_report(report, tmp_path, pdf=False)
    shown = "nul\ufffdinside, bell\ufffd, tab\tstays"
    assert shown in paths["report.html"].read_text(encoding="utf-8")
    assert "\x00" not in paths["report.html"].read_text(encoding="utf-8")
    assert "nul\ufffdinside, bell\ufffd, tab\tstays" in paths["report.md"].read_text(encoding="utf-8")
    sheet = load_workbook(paths["findings.xlsx"]).active
    header = [c.value for c in sheet[1]]
    assert sheet.cell(row=2, column=header.index("message") + 1).value == shown
    assert json.loads(paths["report.json"].read_text(encoding="utf-8"))["new"][0]["message"] == finding["message"]


def test_trend_is_small_multiples_one_panel_per_severity(two_weeks: dict[str, Any]) -> None:
    """No series can hide another: each severity has a panel of its own, with its own marker."""
    from visualizations.report import SEVERITY_MARKERS, trend_figure

    fig = trend_figure(two_weeks["second"])
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["critical: 4", "high: 11", "medium: 5", "low: 1"]
    for ax, severity in zip(axes, ("critical", "high", "medium", "low"), strict=True):
        (line,) = ax.get_lines()
        assert list(line.get_ydata()) == [p[severity] for p in two_weeks["second"]["trend"]]
        assert line.get_marker() == SEVERITY_MARKERS[severity]
    assert len({line.get_marker() for ax in axes for line in ax.get_lines()}) == 4


def test_report_html_prints_on_few_pages(two_weeks: dict[str, Any], tmp_path: Path) -> None:
    """Printed (A4, print CSS), the report of 25 findings fits on 3 pages (it used to take 8 for 10)."""
    from visualizations.pdf import html_to_pdf

    pdf = html_to_pdf(render_html(two_weeks["second"]))
    (tmp_path / "report.pdf").write_bytes(pdf)
    reader = PdfReader(tmp_path / "report.pdf")
    assert len(reader.pages) <= 3
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Who must act" in text and "Accepted risks" in text


def _pdf_text(path: Path) -> str:
    # NFKC: the PDF's text has the font's ligatures (fi, ffi) as single characters
    return unicodedata.normalize("NFKC", " ".join(" ".join(p.extract_text().split()) for p in PdfReader(path).pages))


def test_summary_pdf_is_one_a4_page_with_the_executive_facts(two_weeks: dict[str, Any], tmp_path: Path) -> None:
    second = two_weeks["second"]
    paths = write_report(second, tmp_path / "out")
    reader = PdfReader(paths["summary.pdf"])
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    text = _pdf_text(paths["summary.pdf"])
    assert "executive summary" in text
    assert "21 open (1 new, 20 still open); 1 more accepted by a waiver" in text
    assert "Maturity stage: foundation" in text
    # the five most severe open findings, with owner and due date
    assert [(f["severity"], f["check"]) for f in second["top_open"]] == TOP_OPEN_WEEK2
    for _, check in TOP_OPEN_WEEK2:
        assert check in text
    assert "nobody accountable" in text and "no date" in text
    assert "1 open (0 serious); 1 reported late." in text and "inc-2026-assistant-disclosure" in text
    assert "inc-2026-fraud-declines (closed) 2026-08-03 2026-08-18 late 2026-08-25" in text
    assert "use-case-without-kpi" in text and "Chief Operating Officer" in text and "2026-12-01" in text
    # rendered to PNG for a look (poppler's pdftoppm)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-singlefile", str(paths["summary.pdf"]), str(tmp_path / "summary")],
        check=True,
    )
    png = (tmp_path / "summary.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000


def _messy_medium(tmp_path: Path) -> tuple[Path, int]:
    """synth medium with the owner of every model and workflow removed: thousands of findings,
    most of them with nobody accountable, like the 3,400-row public inventory of issue 19."""
    from loaders import synth

    bundle, _ = synth.generate("medium", 0)
    stripped = 0
    for section in ("models", "workflows"):
        for item in bundle[section]:
            if item.pop("owner", None) is not None:
                stripped += 1
    path = tmp_path / "messy-medium.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return path, stripped


def test_report_of_a_big_messy_inventory_stays_small_with_full_lists_in_csv_and_xlsx(
    db: Database, scenario: str, tmp_path: Path
) -> None:
    path, stripped = _messy_medium(tmp_path)
    assert stripped > 3000
    load_bundle(db, path, scenario)
    report = build_report(db, load_catalog(), scenario, WEEK1)
    total = report["counts"]["open"]["total"] + report["counts"]["waived"]["total"]
    assert total > 3000
    paths = write_report(report, tmp_path / "out")
    html = paths["report.html"].read_text(encoding="utf-8")
    assert paths["report.html"].stat().st_size < 2_000_000
    # the one-page summary stays one page
    assert len(PdfReader(paths["summary.pdf"]).pages) == 1
    # the full lists are in the CSV and the workbook
    with paths["findings.csv"].open(newline="", encoding="utf-8") as handle:
        assert sum(1 for _ in csv.DictReader(handle)) == total
    sheet = load_workbook(paths["findings.xlsx"], read_only=True)["findings"]
    assert sum(1 for _ in sheet.iter_rows()) == 1 + total
    # the HTML shows the top and says how many more
    assert f"and {total - 100} more in findings.csv and findings.xlsx" in html
    nobody = next(g for g in report["by_role"] if g["role"] is None)
    assert nobody["open"]["total"] > 2900
    # nobody's thousands of findings are grouped by check, with the first subjects and "and K more"
    owners = [f for f in nobody["findings"] if f["check"] == "model-without-owner"]
    assert f"and {len(owners) - 5} more" in html
    acting = [g for g in report["by_role"] if g["open"]["total"]]
    if len(acting) > 25:
        assert f"and {len(acting) - 25} more roles" in html


def test_report_command_without_chromium_writes_the_rest_and_says_why(
    db: Database, scenario: str, test_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli.report_cmd import register

    app = typer.Typer()
    register(app, lambda: _Ctx(test_settings, db))

    @app.command("noop")
    def _noop() -> None:
        pass

    load_bundle(db, INSURER, scenario)
    monkeypatch.setenv("TOMGRAPH_CHROMIUM", str(tmp_path / "no-chromium"))
    args = ["report", "--scenario", scenario, "--as-of", "2026-11-16", "--out", str(tmp_path / "out")]
    failed = CliRunner().invoke(app, args)
    assert failed.exit_code == 1
    assert f"error: summary.pdf: Chromium not found at {tmp_path / 'no-chromium'}" in failed.stderr
    assert (tmp_path / "out" / "report.html").is_file() and not (tmp_path / "out" / "summary.pdf").exists()
    skipped = CliRunner().invoke(app, [*args, "--no-pdf"])
    assert skipped.exit_code == 0, skipped.output
