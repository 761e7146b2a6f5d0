"""The weekly gap report: findings compared with the previous report, and who must act.

Every run of :func:`build_report` stores a snapshot of its findings in the graph, one
``(:Snapshot {scenario, as_of})`` node per scenario and as-of date, holding the report as a JSON
string (``report``) and its headline counts (``counts``, for the trend chart). A second run for
the same date replaces that date's snapshot. A finding is identified by (check, set of subjects),
as in gap-checks.md.

The report compares with the latest snapshot *before* its as-of date:

- ``new``: findings not in the previous snapshot (every finding, on the first report);
- ``resolved``: findings of the previous snapshot that are gone;
- ``persisting``: findings in both, with ``first_seen`` (the as-of date of the first snapshot of
  the unbroken run of snapshots that contain it: a finding that was resolved and comes back is
  new again) and ``weeks_open`` = floor((as_of - first_seen) in days / 7).

"Open" means not accepted by an unexpired waiver. Open and waived findings are counted apart
everywhere (issue 19): the headline (``counts.open`` and ``counts.waived`` by severity, and
``counts.new`` / ``counts.persisting`` as ``{"open", "waived"}``, so that open.total = new.open +
persisting.open), the sections per role, unit and check (``open`` by severity, ``waived`` a
count), and the trend (open only). The lists (new, resolved, persisting, the full list) hold every
finding, waived ones marked with ``waived`` as in gap-checks.md; the waivers in force are listed as
the accepted-risk register (``accepted_risks``).

"Who must act" (``by_role``), ``by_unit`` and ``by_check`` are in urgency order: the group whose
most severe open finding is worst first, then by open count (queries.findings.urgency_key).
report.json holds every finding; report.html shows the top of each list with "and K more", the
full lists being in findings.csv and findings.xlsx, so that it stays small on big inventories.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from neo4j import ManagedTransaction

from graph.consistent import Reader, consistent_view
from graph.db import Database
from graph.errors import NotFound
from graph.ontology import ENTITY_LABEL, SEVERITIES, kind
from queries.catalog import SEVERITY_RANK, Catalog
from queries.coverage import CoverageResult, item_label
from queries.findings import Finding, finding_identity, group_by, severity_counts, top
from queries.maturity.catalog import STAGES, Criterion, load_criteria
from queries.maturity.scorecard import scorecard_in
from queries.runner import coverage_in_force, run_checks_in
from queries.waivers import Waiver, read_waivers
from visualizations.coverage import entity_url
from visualizations.spreadsheet import guard_cell

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from queries.frameworks import Framework

SNAPSHOT_LABEL = "Snapshot"
TEMPLATE_DIR = Path(__file__).parent / "report_templates"
EXPIRING_WITHIN_DAYS = 14
NEWLY_EXPIRED_FIRST_REPORT_DAYS = 7
"""On a scenario's first report there is no "since last time": waivers expired in the week before
the as-of date count as newly expired."""

OUTPUT_FILES = ("report.html", "report.md", "findings.csv", "findings.xlsx", "report.json", "trend.png")
TOP_ROLES = 25
"""report.html lists this many groups of "who must act" (and of units), then says how many more."""
ROLE_FINDINGS_LISTED = 8
"""A role with at most this many open findings has them listed one by one; beyond, by check."""
SUBJECTS_SHOWN = 5
"""Subjects shown per check in a role grouped by check."""
ALL_FINDINGS_SHOWN = 100
"""Rows of report.html's "All findings" and "Resolved" tables; the rest are in findings.csv/xlsx."""
FINDING_COLUMNS = (
    "status",
    "check",
    "severity",
    "subjects",
    "accountable",
    "accountable_name",
    "holders",
    "unit",
    "message",
    "remediation",
    "first_seen",
    "weeks_open",
    "waived_by",
    "waiver_reason",
    "waiver_expires",
)

Report = dict[str, Any]
Identity = tuple[str, frozenset[str]]

_HOLDS = kind("people").reference("holds")
_IN_UNIT = kind("roles").reference("unit")
assert _HOLDS is not None and _IN_UNIT is not None


def weeks_between(first_seen: date, as_of: date) -> int:
    """Whole weeks a finding has been open: floor(days / 7)."""
    return (as_of - first_seen).days // 7


# --------------------------------------------------------------------------------------------
# Building and storing


def build_report(
    db: Database,
    catalog: Catalog,
    scenario: str,
    as_of: date,
    criteria: Sequence[Criterion] | None = None,
    *,
    at: date | None = None,
) -> Report:
    """Run the checks on the version of the scenario in force on ``at`` (default today), compare
    with the previous snapshot, store this one and return report.json. With history, the report
    of any past week can be rebuilt: ``as_of`` and ``at`` that week's date.

    ``criteria``: the maturity criteria of the scorecard (default: the built-in ones); the report's
    ``maturity`` holds the organisation's and every unit's stage and how each moved since the
    previous report (maturity.md, "Scorecard"). Besides the findings, the report has ``incidents``
    (with their reporting deadlines, :func:`_incidents`), ``evidence`` expiring within
    EVIDENCE_WITHIN_DAYS or expired (:func:`_evidence_due`) and, when a framework is in force
    (obligations.md), ``coverage`` (:func:`coverage_section`). Everything is read in one view of
    the scenario, and the checks run once: the scorecard counts this run's findings, and the
    ``obligation-unmet`` findings come from the same coverage as the section.
    Raises ``queries.waivers.UnknownScenarioError`` when the scenario has not been loaded.
    """
    if criteria is None:
        criteria = load_criteria(known_checks=catalog.ids())
    # One version of the scenario for every read, in one read transaction.
    with consistent_view(db, scenario, at) as view:
        in_force = coverage_in_force(view, catalog, as_of)
        result = run_checks_in(view, catalog, as_of, coverage=in_force[1] if in_force else None)
        waivers = read_waivers(view, scenario)
        role_ids = {f["accountable"] for f in result["findings"] if f["accountable"]} | {w.accepted_by for w in waivers}
        previous = _previous_report(view, scenario, as_of)
        report = compose_report(
            scenario,
            as_of,
            result["findings"],
            previous,
            _role_details(view, view.physical, role_ids),
            waivers,
            _trend_before(view, scenario, as_of),
            {check.id: check.spec.severity for check in catalog.checks},
        )
        report["top_open"] = _top_open(view, view.physical, report)
        report["incidents"] = _incidents(view, view.physical, as_of)
        report["evidence"] = _evidence_due(view, view.physical, as_of)
        if in_force is not None:
            report["coverage"] = coverage_section(*in_force)
        # the scorecard counts this run's findings: the checks run once per report
        card = scorecard_in(view, catalog, criteria, as_of, by_unit=True, findings=result["findings"])
    report["maturity"] = maturity_section(card, (previous or {}).get("maturity"))
    from events.stats import trend_section  # the event log's metrics and their trend (events.md)

    report["events"] = trend_section(db, catalog, scenario, as_of)
    _store_snapshot(db, report)
    return report


def compose_report(
    scenario: str,
    as_of: date,
    findings: Sequence[Finding],
    previous: Report | None,
    roles: Mapping[str, dict[str, Any]],
    waivers: Iterable[Waiver],
    trend_before: Sequence[dict[str, Any]],
    check_severity: Mapping[str, str] | None = None,
) -> Report:
    """The report from this run's findings and the previous report (pure; no database).

    ``roles``: name, unit and holders of the accountable roles and of the waivers' acceptors;
    ``check_severity``: check id -> severity, for waivers that accept no current finding.
    """
    first_seen: dict[Identity, str] = {}
    previous_items: dict[Identity, dict[str, Any]] = {}
    if previous is not None:
        for item in previous["new"]:
            first_seen[_identity(item)] = previous["as_of"]
            previous_items[_identity(item)] = item
        for item in previous["persisting"]:
            first_seen[_identity(item)] = item["first_seen"]
            previous_items[_identity(item)] = item

    new: list[dict[str, Any]] = []
    persisting: list[dict[str, Any]] = []
    current: set[Identity] = set()
    for finding in findings:
        identity = _identity(finding)
        current.add(identity)
        entry: dict[str, Any] = dict(finding)
        if identity in first_seen:
            entry["first_seen"] = first_seen[identity]
            entry["weeks_open"] = weeks_between(date.fromisoformat(first_seen[identity]), as_of)
            persisting.append(entry)
        else:
            new.append(entry)
    resolved = [_plain_finding(item) for ident, item in previous_items.items() if ident not in current]
    resolved.sort(key=_finding_order)

    open_now = severity_counts(f for f in findings if "waived" not in f)
    change = None
    if previous is not None:
        before = previous["counts"]["open"]
        change = {k: open_now[k] - before.get(k, 0) for k in open_now}
    counts = {
        "open": open_now,
        "waived": severity_counts(f for f in findings if "waived" in f),
        "change": change,
        "new": _open_and_waived(new),
        "persisting": _open_and_waived(persisting),
        "resolved": len(resolved),
    }
    report: Report = {
        "scenario": scenario,
        "as_of": as_of.isoformat(),
        "previous_as_of": previous["as_of"] if previous is not None else None,
        "counts": counts,
        "new": new,
        "resolved": resolved,
        "persisting": persisting,
    }
    dated = _dated_findings(report)
    waivers = list(waivers)
    report["by_role"] = _by_role(dated, roles)
    report["by_unit"] = _by_unit(dated, roles)
    report["by_check"] = _by_check(dated)
    report["waivers"] = _waiver_sections(waivers, as_of, report["previous_as_of"])
    report["accepted_risks"] = _accepted_risks(waivers, findings, as_of, roles, check_severity or {})
    report["trend"] = [*trend_before, {"as_of": as_of.isoformat(), **open_now}]
    return report


def maturity_section(card: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """The report's ``maturity``: ``{"stage", "movement", "units": [{"unit", "stage", "previous",
    "movement"}]}`` from a by-unit scorecard and the previous report's section (None on the first
    report with a scorecard). Movement: "up from S", "down from S", "unchanged" or "new"."""
    before = {u["unit"]: u["stage"] for u in (previous or {}).get("units", [])}
    before_org = (previous or {}).get("stage")

    def movement(now: str, was: str | None) -> str:
        if was is None:
            return "new"
        if now == was:
            return "unchanged"
        order = ("none", *STAGES)
        return f"{'up' if order.index(now) > order.index(was) else 'down'} from {was}"

    org, *units = card["scopes"]
    return {
        "stage": org["stage"],
        "previous": before_org,
        "movement": movement(org["stage"], before_org),
        "units": [
            {
                "unit": u["scope"],
                "stage": u["stage"],
                "previous": before.get(u["scope"]),
                "movement": movement(u["stage"], before.get(u["scope"])),
            }
            for u in units
        ],
    }


def stored_report(
    db: Database, catalog: Catalog, scenario: str, as_of: date | None, *, at: date | None = None
) -> Report:
    """The report stored for ``as_of`` (None: the latest, or with ``at`` the latest stored for
    ``at`` or before); ``NotFound`` when there is none.

    ``catalog`` is not needed to read a stored report; it is accepted so that callers can pass
    the same arguments as to :func:`build_report`.
    """
    del catalog
    if as_of is None:
        rows = db.read(
            f"MATCH (s:{SNAPSHOT_LABEL} {{scenario: $scenario}}) WHERE $at IS NULL OR s.as_of <= $at "
            "RETURN s.report AS report ORDER BY s.as_of DESC LIMIT 1",
            {"scenario": scenario, "at": at},
        )
    else:
        rows = db.read(
            f"MATCH (s:{SNAPSHOT_LABEL} {{scenario: $scenario}}) WHERE s.as_of = $as_of RETURN s.report AS report",
            {"scenario": scenario, "as_of": as_of},
        )
    if not rows:
        when = as_of.isoformat() if as_of else f"{at.isoformat()} or before" if at else "any date"
        raise NotFound(f"no report of scenario '{scenario}' for {when}")
    report: Report = json.loads(rows[0]["report"])
    return report


def snapshot_dates(db: Database, scenario: str) -> list[date]:
    """The as-of dates of the scenario's stored snapshots, oldest first."""
    rows = db.read(
        f"MATCH (s:{SNAPSHOT_LABEL} {{scenario: $scenario}}) RETURN s.as_of AS as_of ORDER BY as_of",
        {"scenario": scenario},
    )
    return [row["as_of"].to_native() for row in rows]


def _previous_report(db: Reader, scenario: str, as_of: date) -> Report | None:
    rows = db.read(
        f"MATCH (s:{SNAPSHOT_LABEL} {{scenario: $scenario}}) WHERE s.as_of < $as_of "
        "RETURN s.report AS report ORDER BY s.as_of DESC LIMIT 1",
        {"scenario": scenario, "as_of": as_of},
    )
    if not rows:
        return None
    report: Report = json.loads(rows[0]["report"])
    return report


def previous_maturity(db: Reader, scenario: str, as_of: date) -> dict[str, Any] | None:
    """The ``maturity`` section of the last stored report before ``as_of`` (None when there is
    none, or it has no scorecard): what ``maturity_section`` measures movement against."""
    previous = _previous_report(db, scenario, as_of)
    section: dict[str, Any] | None = (previous or {}).get("maturity")
    return section


def _trend_before(db: Reader, scenario: str, as_of: date) -> list[dict[str, Any]]:
    rows = db.read(
        f"MATCH (s:{SNAPSHOT_LABEL} {{scenario: $scenario}}) WHERE s.as_of < $as_of "
        "RETURN s.as_of AS as_of, s.counts AS counts ORDER BY s.as_of",
        {"scenario": scenario, "as_of": as_of},
    )
    return [{"as_of": row["as_of"].iso_format(), **json.loads(row["counts"])["open"]} for row in rows]


def _store_snapshot(db: Database, report: Report) -> None:
    params = {
        "scenario": report["scenario"],
        "as_of": date.fromisoformat(report["as_of"]),
        "report": json.dumps(report, ensure_ascii=False, separators=(",", ":")),
        "counts": json.dumps(report["counts"], separators=(",", ":")),
        # for the improve-trend maturity criterion, which reads them in Cypher
        "new_count": sum(report["counts"]["new"].values()),
        "resolved_count": report["counts"]["resolved"],
    }

    def work(tx: ManagedTransaction) -> None:
        # Writing to the scenario node serialises snapshot writers (and loads) of one scenario,
        # so two runs for the same date cannot both create a snapshot.
        locked = tx.run(
            "MATCH (s:Scenario {name: $scenario}) SET s.reported_at = datetime() RETURN count(s) AS n",
            scenario=params["scenario"],
        ).single(strict=True)["n"]
        if not locked:
            raise NotFound(f"scenario '{params['scenario']}' has not been loaded")
        tx.run(
            f"MATCH (s:{SNAPSHOT_LABEL} {{scenario: $scenario}}) WHERE s.as_of = $as_of DELETE s",
            scenario=params["scenario"],
            as_of=params["as_of"],
        ).consume()
        tx.run(
            f"CREATE (s:{SNAPSHOT_LABEL} {{scenario: $scenario, as_of: $as_of, generated_at: datetime(), "
            "report: $report, counts: $counts, new_count: $new_count, resolved_count: $resolved_count})",
            params,
        ).consume()

    db.execute_write(work)


TOP_OPEN = 5
"""The executive summary lists this many open findings, the most severe and oldest first."""
INCIDENTS_LISTED = 5


def _top_open(db: Reader, scenario: str, report: Report) -> list[dict[str, Any]]:
    """The TOP_OPEN most severe open findings (oldest first within a severity), each with who owns
    it (the accountable role, its name and holders) and a due date: the earliest due date of an
    initiative of the scenario, not done or cancelled, that delivers one of its subjects
    (``due_from`` its id), else the expiry of the waiver that accepted it until recently
    (``due_from`` "waiver"), else None."""
    open_items = [f for f in _dated_findings(report) if "waived" not in f]
    open_items.sort(key=lambda f: (SEVERITY_RANK[f["severity"]], f["first_seen"], f["check"], f["subjects"]))
    chosen = open_items[:TOP_OPEN]
    roles = {g["role"]: g for g in report["by_role"] if g["role"]}
    dues = _initiative_dues(db, scenario, {s for f in chosen for s in f["subjects"]})
    lapsed = {_identity(w): w["expires"] for w in report["waivers"]["newly_expired"]}
    out = []
    for f in chosen:
        candidates = [dues[s] for s in f["subjects"] if s in dues]
        due, due_from = min(candidates) if candidates else (None, None)
        if due is None and _identity(f) in lapsed:
            due, due_from = lapsed[_identity(f)], "waiver"
        group = roles.get(f["accountable"]) or {}
        out.append(
            {
                **{k: f[k] for k in ("check", "severity", "subjects", "accountable", "message", "first_seen")},
                "accountable_name": group.get("name"),
                "holders": group.get("holders", []),
                "due": due,
                "due_from": due_from,
            }
        )
    return out


def _initiative_dues(db: Reader, scenario: str, subjects: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Entity id -> (earliest due date, initiative id) over the open initiatives delivering it."""
    delivers = _optional_reference("initiatives", "delivers")
    if delivers is None or not subjects:
        return {}
    rows = db.read(
        f"MATCH (i:Initiative {{scenario: $scenario}})-[:{delivers.rel_type}]->(e) "
        "WHERE e.id IN $ids AND i.due IS NOT NULL AND NOT i.status IN ['done', 'cancelled'] "
        "RETURN e.id AS id, i.due AS due, i.id AS initiative ORDER BY due, initiative",
        {"scenario": scenario, "ids": sorted(subjects)},
    )
    out: dict[str, tuple[str, str]] = {}
    for row in rows:
        out.setdefault(row["id"], (row["due"].iso_format(), row["initiative"]))
    return out


REPORTING_DAYS = {"death": 10, "critical_infrastructure": 2, "widespread": 2}
"""Days from ``aware`` to the reporting deadline of a serious incident, by ``category``; 15 for any
other (EU AI Act Art. 73(2)-(4); the same rule as the check late-incident-report)."""
REPORTING_DAYS_OTHERWISE = 15


def reporting_deadline(serious: bool, category: str | None, aware: date) -> date | None:
    """The day by which a serious incident must reach the authority (EU AI Act Art. 73); None when
    the incident is not serious (no deadline)."""
    if not serious:
        return None
    return aware + timedelta(days=REPORTING_DAYS.get(category or "", REPORTING_DAYS_OTHERWISE))


def _incidents(db: Reader, scenario: str, as_of: date) -> dict[str, Any]:
    """The report's ``incidents``: every incident the organisation knew of on ``as_of`` (aware on or
    before it) that is open then (not closed by it) or was reported late; bundle-format.md 1.1.

    ``{"open", "serious", "late", "items": [{"id", "name", "severity", "serious", "category",
    "aware", "reported", "closed", "open", "owner", "deadline", "late", "days_left"}]}``:
    ``open`` and ``serious`` count the open ones, ``late`` every serious one reported after its
    deadline or still unreported past it (as late-incident-report finds them). ``deadline`` is
    :func:`reporting_deadline` (None when not serious); ``days_left`` the days from ``as_of`` to
    it while the incident is unreported (negative once past), else None. Items: late first, then
    serious, most severe, oldest."""
    owner = _optional_reference("incidents", "owner")
    if owner is None:
        return {"open": 0, "serious": 0, "late": 0, "items": []}
    rows = db.read(
        "MATCH (n:Incident {scenario: $scenario}) WHERE n.aware <= $as_of "
        f"OPTIONAL MATCH (r:Role)-[:{owner.rel_type}]->(n) "
        "RETURN n.id AS id, n.name AS name, n.severity AS severity, coalesce(n.serious, false) AS serious, "
        "n.category AS category, n.aware AS aware, n.reported AS reported, n.closed AS closed, min(r.id) AS owner",
        {"scenario": scenario, "as_of": as_of},
    )
    items = []
    for r in rows:
        aware = r["aware"].to_native()
        reported = r["reported"].to_native() if r["reported"] is not None else None
        closed = r["closed"].to_native() if r["closed"] is not None else None
        deadline = reporting_deadline(r["serious"], r["category"], aware)
        late = deadline is not None and (reported > deadline if reported is not None else as_of > deadline)
        is_open = closed is None or closed > as_of
        if not (is_open or late):
            continue
        items.append(
            {
                "id": r["id"],
                "name": r["name"],
                "severity": r["severity"],
                "serious": r["serious"],
                "category": r["category"],
                "aware": aware.isoformat(),
                "reported": reported.isoformat() if reported else None,
                "closed": closed.isoformat() if closed else None,
                "open": is_open,
                "owner": r["owner"],
                "deadline": deadline.isoformat() if deadline else None,
                "late": late,
                "days_left": (deadline - as_of).days if deadline is not None and reported is None else None,
            }
        )
    items.sort(
        key=lambda i: (not i["late"], not i["serious"], SEVERITY_RANK.get(i["severity"], 9), i["aware"], i["id"])
    )
    return {
        "open": sum(1 for i in items if i["open"]),
        "serious": sum(1 for i in items if i["open"] and i["serious"]),
        "late": sum(1 for i in items if i["late"]),
        "items": items,
    }


EVIDENCE_WITHIN_DAYS = 30
"""The report lists evidence that expires within this many days of its as-of date (issue 18)."""


def _evidence_due(db: Reader, scenario: str, as_of: date) -> dict[str, Any]:
    """The report's ``evidence``: documents to renew (bundle-format.md 1.1: evidence is in force from
    ``issued`` up to the day before ``expires``).

    ``{"within_days", "expiring": [...], "expired": [...]}``; each item ``{"id", "name", "kind",
    "about": [ids], "issued", "expires", "owner", "days"}``. ``expiring``: in force on ``as_of`` and
    expiring within ``within_days`` (as_of < expires <= as_of + within_days; ``days`` until it
    expires); ``expired``: issued by ``as_of`` and no longer in force (expires <= as_of; ``days``
    since). A document is left out once renewed: when everything it is about has evidence of the
    same kind in force on ``as_of`` that lasts longer. Soonest (or longest expired) first."""
    about = _optional_reference("evidence", "about")
    owner = _optional_reference("evidence", "owner")
    if about is None or owner is None:
        return {"within_days": EVIDENCE_WITHIN_DAYS, "expiring": [], "expired": []}
    rows = db.read(
        "MATCH (e:Evidence {scenario: $scenario}) "
        "WHERE e.issued <= $as_of AND e.expires IS NOT NULL AND e.expires <= $until "
        f"AND EXISTS {{ MATCH (e)-[:{about.rel_type}]->(x) WHERE NOT EXISTS {{ "
        f"MATCH (o:Evidence {{scenario: $scenario, kind: e.kind}})-[:{about.rel_type}]->(x) "
        "WHERE o <> e AND o.issued <= $as_of "
        "AND (o.expires IS NULL OR (o.expires > e.expires AND o.expires > $as_of)) } } "
        f"OPTIONAL MATCH (r:Role)-[:{owner.rel_type}]->(e) "
        "RETURN e.id AS id, e.name AS name, e.kind AS kind, e.issued AS issued, e.expires AS expires, "
        f"min(r.id) AS owner, COLLECT {{ MATCH (e)-[:{about.rel_type}]->(x) RETURN x.id ORDER BY x.id }} AS about "
        "ORDER BY expires, id",
        {"scenario": scenario, "as_of": as_of, "until": as_of + timedelta(days=EVIDENCE_WITHIN_DAYS)},
    )
    expiring: list[dict[str, Any]] = []
    expired: list[dict[str, Any]] = []
    for r in rows:
        expires = r["expires"].to_native()
        item = {
            "id": r["id"],
            "name": r["name"],
            "kind": r["kind"],
            "about": list(r["about"]),
            "issued": r["issued"].to_native().isoformat(),
            "expires": expires.isoformat(),
            "owner": r["owner"],
            "days": abs((expires - as_of).days),
        }
        (expiring if expires > as_of else expired).append(item)
    return {"within_days": EVIDENCE_WITHIN_DAYS, "expiring": expiring, "expired": expired}


COVERAGE_MODELS_SHOWN = 20
"""The report's coverage matrix has this many model columns: the models failing most obligations."""
COVERAGE_OTHERS_SHOWN = 25
"""Failing (obligation, subject) pairs listed for subjects that are not models (vendors, incidents)."""


def coverage_section(frameworks: Sequence[Framework], result: CoverageResult) -> dict[str, Any]:
    """The report's ``coverage`` (obligations.md "Coverage") from the coverage of the frameworks in
    force: per framework its coverage, each obligation's applicable and satisfied counts, and a matrix
    of obligations by models for the COVERAGE_MODELS_SHOWN models failing most obligations (pure).

    ``{"frameworks": [{"framework", "title", "coverage", "applicable", "satisfied", "models":
    [shown model ids], "models_failing", "obligations": [{"id", "ref", "title", "kind",
    "applicable", "satisfied", "cells": {model: "holds" | [failing items]}}], "others":
    [{"subject", "kind", "obligation", "ref", "failing"}], "others_failing"}]}``. ``cells`` has the
    shown models the obligation applies to; ``others`` lists failing pairs of other kinds."""
    out = []
    for framework, f in zip(frameworks, result["frameworks"], strict=True):
        kinds = {o.id: o.applies_to.kind for o in framework.spec.obligations}
        failing_count: dict[str, int] = defaultdict(int)
        others = []
        for o in f["obligations"]:
            for u in o["unsatisfied"]:
                if kinds[o["id"]] == "models":
                    failing_count[u["subject"]] += 1
                else:
                    others.append(
                        {
                            "subject": u["subject"],
                            "kind": kinds[o["id"]],
                            "obligation": o["id"],
                            "ref": o["ref"],
                            "failing": [item_label(i) for i in u["failing"]],
                        }
                    )
        shown = sorted(failing_count, key=lambda m: (-failing_count[m], m))[:COVERAGE_MODELS_SHOWN]
        obligations = []
        for o in f["obligations"]:
            failing = {u["subject"]: u["failing"] for u in o["unsatisfied"]}
            applies = set(o.get("subjects", [])) if kinds[o["id"]] == "models" else set()
            obligations.append(
                {
                    "id": o["id"],
                    "ref": o["ref"],
                    "title": o["title"],
                    "kind": kinds[o["id"]],
                    "applicable": o["applicable"],
                    "satisfied": o["satisfied"],
                    "cells": {
                        m: [item_label(i) for i in failing[m]] if m in failing else "holds"
                        for m in shown
                        if m in applies
                    },
                }
            )
        others.sort(key=lambda x: (x["subject"], x["ref"]))
        out.append(
            {
                "framework": f["framework"],
                "title": framework.spec.title,
                "coverage": f["coverage"],
                "applicable": sum(o["applicable"] for o in f["obligations"]),
                "satisfied": sum(o["satisfied"] for o in f["obligations"]),
                "models": shown,
                "models_failing": len(failing_count),
                "obligations": obligations,
                "others": others[:COVERAGE_OTHERS_SHOWN],
                "others_failing": len(others),
            }
        )
    return {"frameworks": out}


def _optional_reference(section: str, name: str) -> Any:
    """The ontology's reference, or None while the section is not in the ontology (format 1.0)."""
    from graph.ontology import kinds_by_section

    found = kinds_by_section().get(section)
    return found.reference(name) if found is not None else None


def _role_details(db: Reader, scenario: str, role_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Name, unit and holders (who must act) of each accountable role, in one query."""
    assert _HOLDS is not None and _IN_UNIT is not None
    rows = db.read(
        # by the (scenario, id) key of every entity: Role has an index on scenario alone
        f"UNWIND $ids AS rid MATCH (r:{ENTITY_LABEL} {{scenario: $scenario, id: rid}}) WHERE r:Role "
        f"OPTIONAL MATCH (r)-[:{_IN_UNIT.rel_type}]->(u:Unit) "
        "RETURN r.id AS id, r.name AS name, u.id AS unit, u.name AS unit_name, "
        f"COLLECT {{ MATCH (p:Person)-[:{_HOLDS.rel_type}]->(r) "
        "RETURN {id: p.id, name: p.name, email: p.email} AS p ORDER BY p.id } AS holders",
        {"scenario": scenario, "ids": sorted(role_ids)},
    )
    return {row["id"]: row for row in rows}


# --------------------------------------------------------------------------------------------
# Sections


def _identity(finding: Mapping[str, Any]) -> Identity:
    return finding_identity(finding["check"], finding["subjects"])


def _finding_order(finding: Mapping[str, Any]) -> tuple[int, str, list[str]]:
    return SEVERITY_RANK.get(finding["severity"], 9), finding["check"], finding["subjects"]


def _plain_finding(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("first_seen", "weeks_open")}


def _open_and_waived(findings: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    waived = sum(1 for f in findings if "waived" in f)
    return {"open": len(findings) - waived, "waived": waived}


def _dated_findings(report: Report) -> list[dict[str, Any]]:
    """Every current finding with its status, first_seen and weeks_open, most severe first."""
    items = [{**f, "status": "new", "first_seen": report["as_of"], "weeks_open": 0} for f in report["new"]]
    items += [{**f, "status": "persisting"} for f in report["persisting"]]
    items.sort(key=_finding_order)
    return items


def _by_role(dated: list[dict[str, Any]], roles: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Who must act: findings per accountable role, in urgency order (the role with the most severe
    open finding first, then by open count). ``findings``: its open ones, most severe then oldest
    first; ``waived``: how many of its findings a waiver accepts."""
    out = []
    for group in group_by(dated, lambda f: f["accountable"]):
        role_id = group["key"]
        info = roles.get(role_id) if role_id else None
        out.append(
            {
                "role": role_id,
                "name": info["name"] if info else None,
                "unit": info["unit"] if info else None,
                "unit_name": info["unit_name"] if info else None,
                "holders": info["holders"] if info else [],
                "worst": group["worst"],
                "open": group["open"],
                "waived": group["waived"],
                "findings": sorted(group["findings"], key=lambda f: (SEVERITY_RANK[f["severity"]], f["first_seen"])),
            }
        )
    return out


def _by_unit(dated: list[dict[str, Any]], roles: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings per unit of the accountable role, in urgency order; ``new`` counts open new ones."""
    names: dict[str | None, str | None] = {None: None}

    def unit_of(finding: Mapping[str, Any]) -> str | None:
        info = roles.get(finding["accountable"]) if finding["accountable"] else None
        if info and info["unit"]:
            names[info["unit"]] = info["unit_name"]
            return str(info["unit"])
        return None

    return [
        {
            "unit": g["key"],
            "name": names.get(g["key"]),
            "worst": g["worst"],
            "open": g["open"],
            "waived": g["waived"],
            "new": sum(1 for i in g["findings"] if i["status"] == "new"),
            "roles": sorted({i["accountable"] for i in g["findings"] if i["accountable"]}),
        }
        for g in group_by(dated, unit_of)
    ]


def _by_check(dated: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings per check, in urgency order, with how many roles are accountable for its open ones."""
    return [
        {
            "check": g["key"],
            "severity": next(f["severity"] for f in dated if f["check"] == g["key"]),
            "open": g["open"]["total"],
            "waived": g["waived"],
            "new": sum(1 for i in g["findings"] if i["status"] == "new"),
            "nobody_accountable": sum(1 for i in g["findings"] if not i["accountable"]),
            "roles": len({i["accountable"] for i in g["findings"] if i["accountable"]}),
        }
        for g in group_by(dated, lambda f: f["check"])
    ]


def _accepted_risks(
    waivers: Iterable[Waiver],
    findings: Sequence[Mapping[str, Any]],
    as_of: date,
    roles: Mapping[str, dict[str, Any]],
    check_severity: Mapping[str, str],
) -> list[dict[str, Any]]:
    """The accepted-risk register: every waiver in force on ``as_of`` (expires >= as_of, as in
    queries.waivers.apply_waivers), most severe first, then soonest to expire. ``accepts_finding``
    says whether it accepts a finding of this run (a waiver may outlive its finding)."""
    accepted = {_identity(f): f for f in findings if "waived" in f}
    rows = []
    for w in waivers:
        if w.expires < as_of:
            continue
        finding = accepted.get(w.identity)
        info = roles.get(w.accepted_by) or {}
        rows.append(
            {
                "check": w.check,
                "severity": finding["severity"] if finding else check_severity.get(w.check),
                "subjects": sorted(w.subjects),
                "accepted_by": w.accepted_by,
                "accepted_by_name": info.get("name"),
                "holders": info.get("holders", []),
                "reason": w.reason,
                "expires": w.expires.isoformat(),
                "accepts_finding": finding is not None,
            }
        )
    rows.sort(key=lambda r: (SEVERITY_RANK.get(r["severity"] or "", 9), r["expires"], r["check"], r["subjects"]))
    return rows


def _waiver_sections(waivers: Iterable[Waiver], as_of: date, previous_as_of: str | None) -> dict[str, Any]:
    """Waivers that expired since the last report, and those expiring within 14 days."""
    since = (
        date.fromisoformat(previous_as_of)
        if previous_as_of
        else as_of - timedelta(days=NEWLY_EXPIRED_FIRST_REPORT_DAYS)
    )
    newly_expired, expiring = [], []
    for w in waivers:
        row = {
            "check": w.check,
            "subjects": sorted(w.subjects),
            "accepted_by": w.accepted_by,
            "reason": w.reason,
            "expires": w.expires.isoformat(),
        }
        # A waiver applies while expires >= as_of (queries.waivers.apply_waivers).
        if since <= w.expires < as_of:
            newly_expired.append(row)
        elif as_of <= w.expires <= as_of + timedelta(days=EXPIRING_WITHIN_DAYS):
            expiring.append(row)
    newly_expired.sort(key=lambda r: (r["expires"], r["check"], r["subjects"]))
    expiring.sort(key=lambda r: (r["expires"], r["check"], r["subjects"]))
    return {"newly_expired": newly_expired, "expiring_soon": expiring, "expiring_within_days": EXPIRING_WITHIN_DAYS}


# --------------------------------------------------------------------------------------------
# Output


SEVERITY_COLOURS = {"critical": "#b71c1c", "high": "#e65100", "medium": "#f9a825", "low": "#0277bd"}
SEVERITY_MARKERS = {"critical": "D", "high": "s", "medium": "^", "low": "o"}


def trend_figure(report: Report, size: tuple[float, float] = (8, 2.4)) -> Figure:
    """The trend of open findings as small multiples: one panel per severity, side by side, each
    with its own scale, colour and marker, so that no series can hide another (issue 19: the
    critical line hid under the medium one when they shared one axis)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    points = report.get("trend") or [{"as_of": report["as_of"], **report["counts"]["open"]}]
    xs = list(range(len(points)))
    fig = Figure(figsize=size, dpi=100)
    axes = fig.subplots(1, len(SEVERITIES), sharex=True)
    for ax, severity in zip(axes, SEVERITIES, strict=True):
        values = [p.get(severity, 0) for p in points]
        ax.plot(
            xs, values, marker=SEVERITY_MARKERS[severity], color=SEVERITY_COLOURS[severity], linewidth=2, markersize=4
        )
        ax.set_title(f"{severity}: {values[-1]}", fontsize=9, color=SEVERITY_COLOURS[severity], fontweight="bold")
        ax.set_ylim(bottom=0, top=max(values) * 1.2 + 1)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
        ax.tick_params(labelsize=7)
        ax.grid(axis="y", alpha=0.3)
        ax.set_xticks([xs[0], xs[-1]] if len(xs) > 1 else xs)
        ax.set_xticklabels([points[0]["as_of"][5:], points[-1]["as_of"][5:]] if len(xs) > 1 else [points[0]["as_of"]])
    axes[0].set_ylabel("open findings", fontsize=8)
    fig.suptitle(f"Open findings by severity, {points[0]['as_of']} to {points[-1]['as_of']}", fontsize=9)
    fig.tight_layout()
    return fig


def trend_png(report: Report) -> bytes:
    """The trend chart (open findings by severity over the stored snapshots) as PNG bytes."""
    buffer = io.BytesIO()
    trend_figure(report).savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def role_title(group: Mapping[str, Any]) -> str:
    """How report.html and summary.pdf name a group of "who must act" (plain text)."""
    if group["role"] is None:
        return "Nobody accountable"
    name = group["name"] or "(not a role of the scenario)"
    unit = f", {group['unit_name'] or group['unit']}" if group["unit"] else ""
    return f"{name} ({group['role']}{unit})"


def _role_view(group: Mapping[str, Any]) -> dict[str, Any]:
    """One "who must act" group as report.html shows it: its findings one by one when there are
    few, else one row per check with its first subjects and "and K more"."""
    view = dict(group)
    if group["open"]["total"] <= ROLE_FINDINGS_LISTED:
        view["by_check"] = None
        return view
    rows = []
    for g in group_by(group["findings"], lambda f: f["check"]):
        subjects = [s for f in g["findings"] for s in f["subjects"]]
        shown_subjects, more = top(subjects, SUBJECTS_SHOWN)
        rows.append(
            {
                "check": g["key"],
                "severity": g["worst"],
                "count": g["open"]["total"],
                "subjects": shown_subjects,
                "more_subjects": more,
                "new": sum(1 for f in g["findings"] if f["status"] == "new"),
                "oldest": min(f["first_seen"] for f in g["findings"]),
            }
        )
    view["by_check"] = rows
    return view


def render_html(report: Report, png: bytes | None = None) -> str:
    """report.html: self-contained (chart as a data URI, inline CSS, no scripts), printable.

    Long lists show their top (TOP_ROLES groups, ALL_FINDINGS_SHOWN findings) and say how many
    more there are and where they are (findings.csv, findings.xlsx)."""
    png = trend_png(report) if png is None else png
    chart = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    dated = _dated_findings(report)
    acting = [g for g in report["by_role"] if g["open"]["total"]]
    roles_shown, roles_more = top(acting, TOP_ROLES)
    units_shown, units_more = top(report["by_unit"], TOP_ROLES)
    findings_shown, findings_more = top(dated, ALL_FINDINGS_SHOWN)
    resolved_shown, resolved_more = top(report["resolved"], ALL_FINDINGS_SHOWN)
    risks_shown, risks_more = top(report.get("accepted_risks", []), ALL_FINDINGS_SHOWN)
    # units whose stage moved first, then by stage (highest first)
    moved = sorted(
        (report.get("maturity") or {}).get("units", []),
        key=lambda u: (u["movement"] in ("unchanged", "new"), -("none", *STAGES).index(u["stage"]), u["unit"]),
    )
    units_maturity, units_maturity_more = top(moved, TOP_ROLES)
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            r=report,
            chart=chart,
            severities=SEVERITIES,
            roles=[_role_view(g) for g in roles_shown],
            roles_more=roles_more,
            roles_more_findings=sum(g["open"]["total"] for g in acting[TOP_ROLES:]),
            units=units_shown,
            units_more=units_more,
            dated=findings_shown,
            dated_more=findings_more,
            resolved=resolved_shown,
            resolved_more=resolved_more,
            risks=risks_shown,
            risks_more=risks_more,
            units_maturity=units_maturity,
            units_maturity_more=units_maturity_more,
            signed=_signed,
            role_title=role_title,
            **_incident_and_evidence_views(report),
            entity_url=lambda entity_id: entity_url(report["scenario"], entity_id),
            event_rows=_event_rows(report),
        )
    )


def _incident_and_evidence_views(report: Report) -> dict[str, Any]:
    """report.html's incidents and evidence lists, cut to TOP_ROLES rows each ("and K more").
    Reports stored before these sections existed have none."""
    incidents = report.get("incidents") or {"open": 0, "serious": 0, "late": 0, "items": []}
    evidence = report.get("evidence") or {"within_days": EVIDENCE_WITHIN_DAYS, "expiring": [], "expired": []}
    shown_incidents, incidents_more = top(incidents["items"], TOP_ROLES)
    expiring, expiring_more = top(evidence["expiring"], TOP_ROLES)
    expired, expired_more = top(evidence["expired"], TOP_ROLES)
    return {
        "incidents": shown_incidents,
        "incidents_more": incidents_more,
        "incidents_counts": {k: incidents.get(k, 0) for k in ("open", "serious", "late")},
        "evidence_days": evidence["within_days"],
        "evidence_expiring": expiring,
        "evidence_expiring_more": expiring_more,
        "evidence_expired": expired,
        "evidence_expired_more": expired_more,
    }


def _event_rows(report: Report) -> list[dict[str, str]]:
    from events.stats import shown_rows

    return shown_rows(report["events"]) if report.get("events") else []


SUMMARY_RISKS = 5
"""Rows of the accepted-risk register on the one-page summary."""


def render_summary_html(report: Report, png: bytes | None = None) -> str:
    """The one-page executive summary (issue 19) as HTML for print: the maturity stage (when the
    report has one), the headline numbers, the five most severe open findings with owner and due
    date, the trend, open incidents, and the accepted-risk register, each list cut to fit A4."""
    png = trend_png(report) if png is None else png
    maturity = report.get("maturity") or {}
    risks, risks_more = top(report.get("accepted_risks", []), SUMMARY_RISKS)
    return (
        _env()
        .get_template("summary.html.j2")
        .render(
            r=report,
            chart="data:image/png;base64," + base64.b64encode(png).decode("ascii"),
            severities=SEVERITIES,
            stage=maturity.get("stage"),
            stage_moved=maturity.get("movement"),
            movement=movement_text(report),
            top_open=report.get("top_open", []),
            incidents=report.get("incidents") or {"open": 0, "serious": 0, "late": 0, "items": []},
            incidents_listed=INCIDENTS_LISTED,
            risks=risks,
            risks_more=risks_more,
            signed=_signed,
        )
    )


def render_markdown(report: Report) -> str:
    """report.md: for a wiki page or an email."""
    counts = report["counts"]
    lines = [
        f"# Gap report: scenario {_md(report['scenario'])}, as of {report['as_of']}",
        "",
        f"Compared with the report of {report['previous_as_of']}."
        if report["previous_as_of"]
        else "First report of this scenario: every finding is new.",
        "",
        "| severity | open | change |",
        "| --- | ---: | ---: |",
    ]
    for severity in (*SEVERITIES, "total"):
        change = _signed(counts["change"][severity]) if counts["change"] else "-"
        lines.append(f"| {severity} | {counts['open'][severity]} | {change} |")
    lines += ["", movement_text(report), "", "## Who must act", ""]
    for group in report["by_role"]:
        if not group["open"]["total"]:
            continue
        waived = f"; {group['waived']} more accepted by a waiver" if group["waived"] else ""
        lines.append(f"### {_role_title(group)}: {_severity_summary(group['open'])} open{waived}")
        lines.append("")
        lines.append(f"Held by: {_holders_text(group)}.")
        lines.append("")
        for f in group["findings"]:
            lines.append(
                f"- **{f['severity']}** `{f['check']}` ({_ids(f['subjects'])}), open since {f['first_seen']} "
                f"({f['weeks_open']} weeks): {_md(f['message'])}"
            )
        lines.append("")
    lines += [
        "## Per unit",
        "",
        "| unit | critical | high | medium | low | open | new | waived |",
        "| --- |" + " ---: |" * 7,
    ]
    for unit in report["by_unit"]:
        name = _md(unit["name"] or unit["unit"] or "(no unit / nobody accountable)")
        o = unit["open"]
        lines.append(
            f"| {name} | {o['critical']} | {o['high']} | {o['medium']} | {o['low']} | {o['total']} | {unit['new']} "
            f"| {unit['waived']} |"
        )
    lines += ["", "## Per check", "", "| check | severity | open | new | waived | nobody accountable |"]
    lines += ["| --- | --- |" + " ---: |" * 4]
    for c in report.get("by_check", []):
        lines.append(
            f"| `{c['check']}` | {c['severity']} | {c['open']} | {c['new']} | {c['waived']} "
            f"| {c['nobody_accountable']} |"
        )
    lines += ["", "## Accepted risks", ""]
    lines += [
        f"- **{r['severity'] or '?'}** `{r['check']}` ({_ids(r['subjects'])}), accepted by `{r['accepted_by']}` "
        f"until {r['expires']}: {_md(r['reason'])}" + ("" if r["accepts_finding"] else " (no current finding)")
        for r in report.get("accepted_risks", [])
    ] or ["None."]
    waivers = report["waivers"]
    lines += ["", "## Waivers", ""]
    lines.append("Newly expired:" if waivers["newly_expired"] else "Newly expired: none.")
    lines += [_waiver_line(w) for w in waivers["newly_expired"]]
    lines.append("")
    lines.append(
        f"Expiring within {waivers['expiring_within_days']} days:"
        if waivers["expiring_soon"]
        else f"Expiring within {waivers['expiring_within_days']} days: none."
    )
    lines += [_waiver_line(w) for w in waivers["expiring_soon"]]
    lines += _markdown_incidents_evidence_coverage(report)
    lines += ["", "## Resolved since last time", ""]
    lines += [f"- `{f['check']}` ({_ids(f['subjects'])}): {_md(f['message'])}" for f in report["resolved"]] or ["None."]
    from events.stats import events_markdown

    lines += ["", *events_markdown(report.get("events"))]
    lines += ["## All findings", ""]
    lines += ["| status | severity | check | subjects | accountable | message | remediation |"]
    lines += ["| --- | --- | --- | --- | --- | --- | --- |"]
    for f in _dated_findings(report):
        status = f["status"] + (" (waived)" if "waived" in f else "")
        lines.append(
            f"| {status} | {f['severity']} | `{f['check']}` | {_ids(f['subjects'])} | "
            f"{_ids([f['accountable']]) if f['accountable'] else '-'} | {_md(f['message'])} | "
            f"{_md(f['remediation'])} |"
        )
    return "\n".join(lines) + "\n"


def _markdown_incidents_evidence_coverage(report: Report) -> list[str]:
    """report.md's incidents (with reporting deadlines), evidence to renew and framework coverage."""
    incidents = report.get("incidents") or {"items": []}
    lines = ["", "## Incidents", ""]
    for i in incidents["items"]:
        deadline = f", reporting deadline {i['deadline']}" if i.get("deadline") else ""
        late = " **(reported late)**" if i.get("late") else ""
        state = "open" if i.get("open", True) else f"closed {i['closed']}"
        reported = f"reported {i['reported']}" if i["reported"] else "not reported"
        lines.append(
            f"- **{i['severity']}**{' serious' if i['serious'] else ''} {_md(i['name'])} (`{i['id']}`): aware "
            f"{i['aware']}{deadline}, {reported}{late}; {state}"
        )
    if not incidents["items"]:
        lines.append("None.")
    evidence = report.get("evidence")
    if evidence is not None:
        lines += ["", "## Evidence to renew", ""]
        for title, rows, word in (
            (f"Expiring within {evidence['within_days']} days", evidence["expiring"], "left"),
            ("Expired, not replaced", evidence["expired"], "ago"),
        ):
            lines.append(f"{title}:" if rows else f"{title}: none.")
            lines += [
                f"- {_md(e['name'])} (`{e['id']}`, {e['kind']}) about {_ids(e['about'])}: expires {e['expires']} "
                f"({e['days']} days {word})"
                for e in rows
            ]
    for f in (report.get("coverage") or {}).get("frameworks", []):
        lines += ["", f"## Coverage: {_md(f['title'])} (`{f['framework']}`)", ""]
        lines.append(f"{f['coverage'] * 100:.1f}% covered: {f['satisfied']} of {f['applicable']} pairs hold.")
        lines += ["", "| obligation | title | holds |", "| --- | --- | ---: |"]
        lines += [f"| {o['ref']} | {_md(o['title'])} | {o['satisfied']}/{o['applicable']} |" for o in f["obligations"]]
    return lines


def finding_rows(report: Report) -> list[dict[str, Any]]:
    """One row per current finding (new, persisting) and per resolved one, for CSV and Excel."""
    roles = {g["role"]: g for g in report["by_role"] if g["role"]}
    rows = []
    items = _dated_findings(report) + [
        {**f, "status": "resolved", "first_seen": "", "weeks_open": ""} for f in report["resolved"]
    ]
    for f in items:
        group = roles.get(f["accountable"])
        waived = f.get("waived") or {}
        rows.append(
            {
                "status": f["status"],
                "check": f["check"],
                "severity": f["severity"],
                "subjects": " ".join(f["subjects"]),
                "accountable": f["accountable"] or "",
                "accountable_name": (group or {}).get("name") or "",
                "holders": "; ".join(h["name"] or h["id"] for h in (group or {}).get("holders", [])),
                "unit": (group or {}).get("unit_name") or "",
                "message": f["message"],
                "remediation": f["remediation"],
                "first_seen": f["first_seen"],
                "weeks_open": f["weeks_open"],
                "waived_by": waived.get("accepted_by", ""),
                "waiver_reason": waived.get("reason", ""),
                "waiver_expires": waived.get("expires", ""),
            }
        )
    return rows


def write_report(report: Report, out_dir: Path, *, pdf: bool = True) -> dict[str, Path]:
    """Write report.html, trend.png, report.md, findings.csv, findings.xlsx and report.json, and
    with ``pdf`` the one-page summary.pdf (Chromium print-to-PDF; raises
    ``visualizations.pdf.PdfError`` after writing the other files when it cannot be made)."""
    import pandas as pd

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: out_dir / name for name in OUTPUT_FILES}
    png = trend_png(report)
    paths["trend.png"].write_bytes(png)
    paths["report.html"].write_text(render_html(report, png), encoding="utf-8")
    paths["report.md"].write_text(render_markdown(report), encoding="utf-8")
    paths["report.json"].write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    rows = [{k: _cell(v) for k, v in row.items()} for row in finding_rows(report)]
    with paths["findings.csv"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FINDING_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    frame = pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
    with pd.ExcelWriter(paths["findings.xlsx"], engine="openpyxl") as excel:
        frame.to_excel(excel, sheet_name="findings", index=False)
        excel.sheets["findings"].freeze_panes = "A2"
    if pdf:
        from visualizations.pdf import html_to_pdf

        paths["summary.pdf"] = out_dir / "summary.pdf"
        paths["summary.pdf"].write_bytes(html_to_pdf(render_summary_html(report, _summary_png(report))))
    return paths


def _summary_png(report: Report) -> bytes:
    buffer = io.BytesIO()
    trend_figure(report, size=(8, 2.0)).savefig(buffer, format="png", dpi=150, metadata={"Software": None})
    return buffer.getvalue()


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""C0 control characters other than tab, LF and CR: the loader keeps them as data, but HTML drops
or mangles them and a spreadsheet cell refuses them."""


def shown(value: Any) -> Any:
    """Text as a reader is shown it: control characters become U+FFFD, so nothing vanishes silently.
    report.json keeps the exact text."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return _CONTROL.sub("\ufffd", value)
    return value


def _cell(value: Any) -> Any:
    """Defuse spreadsheet formulas in text taken from the operating model (CSV/formula injection),
    and control characters, which an .xlsx cell cannot hold."""
    return guard_cell(shown(value))


def movement_text(report: Report) -> str:
    """The headline sentence, whose numbers add up: open = new + still open; waived apart."""
    c = report["counts"]
    since = f" since {report['previous_as_of']}" if report["previous_as_of"] else ""
    return (
        f"{c['open']['total']} open ({c['new']['open']} new, {c['persisting']['open']} still open); "
        f"{c['waived']['total']} more accepted by a waiver ({c['new']['waived']} new, "
        f"{c['persisting']['waived']} still accepted), not counted as open; {c['resolved']} resolved{since}."
    )


def _severity_summary(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts[s]) or "0"


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else ("±0" if n == 0 else f"−{-n}")


def _md(text: str) -> str:
    out = shown(str(text)).replace("\r", " ").replace("\n", " ")
    for ch in "\\`*_[]<>|#":
        out = out.replace(ch, "\\" + ch)
    return out


def _ids(ids: Iterable[str]) -> str:
    return ", ".join(f"`{i}`" for i in ids)


def _role_title(group: Mapping[str, Any]) -> str:
    if group["role"] is None:
        return "Nobody accountable"
    name = _md(group["name"]) if group["name"] else "(not a role of the scenario)"
    unit = f", {_md(group['unit_name'] or group['unit'])}" if group["unit"] else ""
    return f"{name} (`{group['role']}`{unit})"


def _holders_text(group: Mapping[str, Any]) -> str:
    if not group["holders"]:
        return "nobody (vacant)" if group["role"] else "nobody"
    return ", ".join(f"{_md(h['name'] or h['id'])} (`{h['id']}`)" for h in group["holders"])


def _waiver_line(w: Mapping[str, Any]) -> str:
    return (
        f"- `{w['check']}` ({_ids(w['subjects'])}), accepted by `{w['accepted_by']}` until {w['expires']}: "
        f"{_md(w['reason'])}"
    )


@cache
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        finalize=shown,
    )
