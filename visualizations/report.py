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

"Open" means not accepted by an unexpired waiver: the headline, the per-role and per-unit
sections and the trend count open findings; the lists (new, resolved, persisting, the full list)
hold every finding, waived ones marked with ``waived`` as in gap-checks.md.
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
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from neo4j import ManagedTransaction

from graph.consistent import Reader, consistent_view
from graph.db import Database
from graph.errors import NotFound
from graph.ontology import SEVERITIES, kind
from queries.catalog import SEVERITY_RANK, Catalog
from queries.findings import Finding, finding_identity
from queries.runner import run_checks_in
from queries.waivers import Waiver, read_waivers

SNAPSHOT_LABEL = "Snapshot"
TEMPLATE_DIR = Path(__file__).parent / "report_templates"
EXPIRING_WITHIN_DAYS = 14
NEWLY_EXPIRED_FIRST_REPORT_DAYS = 7
"""On a scenario's first report there is no "since last time": waivers expired in the week before
the as-of date count as newly expired."""

OUTPUT_FILES = ("report.html", "report.md", "findings.csv", "findings.xlsx", "report.json", "trend.png")
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


def build_report(db: Database, catalog: Catalog, scenario: str, as_of: date, *, at: date | None = None) -> Report:
    """Run the checks on the version of the scenario in force on ``at`` (default today), compare
    with the previous snapshot, store this one and return report.json. With history, the report
    of any past week can be rebuilt: ``as_of`` and ``at`` that week's date.

    Raises ``queries.waivers.UnknownScenarioError`` when the scenario has not been loaded.
    """
    # One version of the scenario for every read, in one read transaction.
    with consistent_view(db, scenario, at) as view:
        result = run_checks_in(view, catalog, as_of)
        report = compose_report(
            scenario,
            as_of,
            result["findings"],
            _previous_report(view, scenario, as_of),
            _role_details(view, view.physical, {f["accountable"] for f in result["findings"] if f["accountable"]}),
            read_waivers(view, scenario),
            _trend_before(view, scenario, as_of),
        )
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
) -> Report:
    """The report from this run's findings and the previous report (pure; no database)."""
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

    open_now = _severity_counts(f for f in findings if "waived" not in f)
    change = None
    if previous is not None:
        before = previous["counts"]["open"]
        change = {k: open_now[k] - before.get(k, 0) for k in open_now}
    counts = {
        "open": open_now,
        "change": change,
        "waived": sum(1 for f in findings if "waived" in f),
        "new": len(new),
        "resolved": len(resolved),
        "persisting": len(persisting),
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
    report["by_role"] = _by_role(dated, roles)
    report["by_unit"] = _by_unit(dated, roles)
    report["waivers"] = _waiver_sections(waivers, as_of, report["previous_as_of"])
    report["trend"] = [*trend_before, {"as_of": as_of.isoformat(), **open_now}]
    return report


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
            "report: $report, counts: $counts})",
            params,
        ).consume()

    db.execute_write(work)


def _role_details(db: Reader, scenario: str, role_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Name, unit and holders (who must act) of each accountable role, in one query."""
    assert _HOLDS is not None and _IN_UNIT is not None
    rows = db.read(
        "UNWIND $ids AS rid MATCH (r:Role {scenario: $scenario, id: rid}) "
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


def _severity_counts(findings: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    return {**counts, "total": sum(counts.values())}


def _dated_findings(report: Report) -> list[dict[str, Any]]:
    """Every current finding with its status, first_seen and weeks_open, most severe first."""
    items = [{**f, "status": "new", "first_seen": report["as_of"], "weeks_open": 0} for f in report["new"]]
    items += [{**f, "status": "persisting"} for f in report["persisting"]]
    items.sort(key=_finding_order)
    return items


def _by_role(dated: list[dict[str, Any]], roles: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Open findings per accountable role, oldest first; roles with the most open findings first."""
    groups: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for item in dated:
        if "waived" not in item:
            groups[item["accountable"]].append(item)
    out = []
    for role_id, items in groups.items():
        items.sort(key=lambda f: (f["first_seen"], *_finding_order(f)))
        info = roles.get(role_id) if role_id else None
        out.append(
            {
                "role": role_id,
                "name": info["name"] if info else None,
                "unit": info["unit"] if info else None,
                "unit_name": info["unit_name"] if info else None,
                "holders": info["holders"] if info else [],
                "open": _severity_counts(items),
                "findings": items,
            }
        )
    out.sort(key=lambda g: (g["role"] is None, -g["open"]["total"], g["role"] or ""))
    return out


def _by_unit(dated: list[dict[str, Any]], roles: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Open findings per unit of the accountable role."""
    groups: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    names: dict[str | None, str | None] = {None: None}
    for item in dated:
        if "waived" in item:
            continue
        info = roles.get(item["accountable"]) if item["accountable"] else None
        unit = info["unit"] if info else None
        names[unit] = info["unit_name"] if info else None
        groups[unit].append(item)
    out: list[dict[str, Any]] = [
        {
            "unit": unit,
            "name": names.get(unit),
            "open": _severity_counts(items),
            "new": sum(1 for i in items if i["status"] == "new"),
            "roles": sorted({i["accountable"] for i in items if i["accountable"]}),
        }
        for unit, items in groups.items()
    ]
    out.sort(key=lambda g: (g["unit"] is None, -g["open"]["total"], g["unit"] or ""))
    return out


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


def trend_png(report: Report) -> bytes:
    """The trend chart (open findings by severity over the stored snapshots) as PNG bytes."""
    # imported here: only report writers need matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    colours = {"critical": "#b71c1c", "high": "#e65100", "medium": "#f9a825", "low": "#0277bd"}
    points = report.get("trend") or [{"as_of": report["as_of"], **report["counts"]["open"]}]
    labels = [p["as_of"] for p in points]
    fig = Figure(figsize=(8, 3), dpi=100)
    ax = fig.add_subplot()
    xs = list(range(len(points)))
    for severity in SEVERITIES:
        ax.plot(xs, [p.get(severity, 0) for p in points], marker="o", label=severity, color=colours[severity])
    ax.set_xticks(xs)
    step = max(1, len(xs) // 12)
    ax.set_xticklabels([label if i % step == 0 else "" for i, label in enumerate(labels)], fontsize=8)
    ax.set_ylabel("open findings")
    top = max((p.get(s, 0) for p in points for s in SEVERITIES), default=0)
    ax.set_ylim(bottom=0, top=top * 1.3 + 1)  # headroom for the legend
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, ncols=4, frameon=False)
    ax.set_title(f"Open findings by severity, scenario {report['scenario']}", fontsize=10)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def render_html(report: Report, png: bytes | None = None) -> str:
    """report.html: self-contained (chart as a data URI, inline CSS, no scripts), printable."""
    png = trend_png(report) if png is None else png
    chart = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            r=report,
            chart=chart,
            severities=SEVERITIES,
            dated=_dated_findings(report),
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
    lines += [
        "",
        f"{counts['new']} new, {counts['resolved']} resolved, {counts['persisting']} still open, "
        f"{counts['waived']} accepted by a waiver.",
        "",
        "## Who must act",
        "",
    ]
    for group in report["by_role"]:
        lines.append(f"### {_role_title(group)}")
        lines.append("")
        lines.append(f"Held by: {_holders_text(group)}.")
        lines.append("")
        for f in group["findings"]:
            lines.append(
                f"- **{f['severity']}** `{f['check']}` ({_ids(f['subjects'])}), open since {f['first_seen']} "
                f"({f['weeks_open']} weeks): {_md(f['message'])}"
            )
        lines.append("")
    lines += ["## Per unit", "", "| unit | critical | high | medium | low | total | new |", "| --- |" + " ---: |" * 6]
    for unit in report["by_unit"]:
        name = _md(unit["name"] or unit["unit"] or "(no unit / nobody accountable)")
        o = unit["open"]
        lines.append(
            f"| {name} | {o['critical']} | {o['high']} | {o['medium']} | {o['low']} | {o['total']} | {unit['new']} |"
        )
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
    lines += ["", "## Resolved since last time", ""]
    lines += [f"- `{f['check']}` ({_ids(f['subjects'])}): {_md(f['message'])}" for f in report["resolved"]] or ["None."]
    lines += ["", "## All findings", ""]
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


def write_report(report: Report, out_dir: Path) -> dict[str, Path]:
    """Write report.html, trend.png, report.md, findings.csv, findings.xlsx and report.json."""
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
    return paths


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
    value = shown(value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


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
