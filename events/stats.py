"""Governance metrics from the event log (events.md, "Metrics").

`event_stats` answers, over the events of one scenario whose day is in [`since`, `as_of`]:

- per risk tier of the model approved, the number of approvals (change and deployment) and the
  median and 90th percentile time from the request each answers to the approval, in hours (the
  request is the approval's ``request``, or else the latest request of the same kind on the
  object before it, as the conformance checks read it; approvals without one have no lead time);
- the share of deployments and of change deployments of models that were authorized (not
  found by ``unapproved-deployment`` / ``unapproved-change``);
- per use case, the days from its first ``stage_changed`` to ``approved`` and to ``live``;
- per actor (the person, or the raw name when it resolves to no one), the approvals given and
  the share of the requests they decided that they approved (approvals over approvals and
  rejections or denials).

Each event is read against the version of the scenario in force on its day
(`events.windows.windows_with_events`), like the checks.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from events.conformance import EARLIEST, actor_names, run_in_windows
from events.cypher import REQUEST_ANSWERED
from events.windows import Reader, windows_with_events
from queries.catalog import Catalog

VERSION_OF = (
    "[w IN $versions WHERE (w.start IS NULL OR w.start <= {e}.day) AND (w.end IS NULL OR {e}.day < w.end)"
    " | w.physical][0]"
)

APPROVAL_LEAD_TIMES = f"""
MATCH (e:Event {{scenario: $events_scenario}})
WHERE e.activity IN ['change_approved', 'deployment_approved'] AND $from_day <= e.day < $until_day
WITH e, {VERSION_OF.format(e="e")} AS version
MATCH (m:Model {{scenario: version, id: e.object}})
WITH e, m, {REQUEST_ANSWERED} AS r
WITH e, m, CASE WHEN r IS NULL THEN null ELSE duration.inSeconds(r.time, e.time).seconds / 3600.0 END AS hours
RETURN coalesce(m.risk_tier, 'none') AS tier, count(e) AS approvals, count(hours) AS with_request,
       percentileCont(hours, 0.5) AS median_hours, percentileCont(hours, 0.9) AS p90_hours
"""

MODEL_EVENTS = f"""
MATCH (e:Event {{scenario: $events_scenario}})
WHERE e.activity IN ['deployed', 'change_deployed'] AND $from_day <= e.day < $until_day
WITH e, {VERSION_OF.format(e="e")} AS version
WHERE EXISTS {{ MATCH (:Model {{scenario: version, id: e.object}}) }}
RETURN e.activity AS activity, count(e) AS total
"""

CYCLE_TIMES = f"""
MATCH (e:Event {{scenario: $events_scenario, activity: 'stage_changed'}})
WHERE $from_day <= e.day < $until_day
WITH e, {VERSION_OF.format(e="e")} AS version
MATCH (u:UseCase {{scenario: version, id: e.object}})
WITH e.object AS use_case, last(collect(u.name)) AS name, min(e.time) AS first,
     min(CASE WHEN e.to_stage = 'approved' THEN e.time END) AS approved,
     min(CASE WHEN e.to_stage = 'live' THEN e.time END) AS live
RETURN use_case, name, toString(first) AS first_stage_change,
       CASE WHEN approved IS NULL THEN null ELSE round(duration.inSeconds(first, approved).seconds / 86400.0, 1) END
         AS days_to_approved,
       CASE WHEN live IS NULL THEN null ELSE round(duration.inSeconds(first, live).seconds / 86400.0, 1) END
         AS days_to_live
ORDER BY use_case
"""

APPROVERS = f"""
MATCH (e:Event {{scenario: $events_scenario}})
WHERE e.activity IN ['change_approved', 'deployment_approved', 'access_granted', 'change_rejected', 'access_denied']
  AND $from_day <= e.day < $until_day AND e.actor IS NOT NULL
WITH e, {VERSION_OF.format(e="e")} AS version
WITH e, $actors[version][e.actor] AS person
WITH coalesce(person, e.actor) AS actor, person IS NOT NULL AS known,
     e.activity IN ['change_approved', 'deployment_approved', 'access_granted'] AS approval
WITH actor, max(known) AS known, sum(CASE WHEN approval THEN 1 ELSE 0 END) AS approvals, count(*) AS decisions
RETURN actor, known, approvals, decisions - approvals AS rejections,
       round(toFloat(approvals) / decisions, 3) AS approval_rate
ORDER BY approvals DESC, actor
"""

COUNT = "MATCH (e:Event {scenario: $events_scenario}) WHERE $from_day <= e.day < $until_day RETURN count(e) AS n"


def _share(authorized: int, total: int) -> float | None:
    return round(authorized / total, 3) if total else None


def event_stats(db: Reader, catalog: Catalog, scenario: str, as_of: date, since: date | None = None) -> dict[str, Any]:
    """The metrics of the module docstring, as ``{scenario, as_of, since, events,
    approval_lead_times: [{risk_tier, approvals, with_request, median_hours, p90_hours}],
    authorized: {deployments: {total, authorized, share}, changes: {...}},
    cycle_times: [{use_case, name, first_stage_change, days_to_approved, days_to_live}],
    approvers: [{actor, known, approvals, rejections, approval_rate}]}``. Hours and days are
    floats; a share is in [0, 1], or null with nothing to divide."""
    until = as_of + timedelta(days=1)
    windows = windows_with_events(db, scenario, None, until)
    params: dict[str, Any] = {
        "events_scenario": scenario,
        "from_day": since or EARLIEST,
        "until_day": until,
        "versions": [{"physical": w.physical, "start": w.start, "end": w.end} for w in windows],
        "actors": actor_names(db, [w.physical for w in windows]),
    }
    lead = [
        {
            "risk_tier": r["tier"],
            "approvals": r["approvals"],
            "with_request": r["with_request"],
            "median_hours": None if r["median_hours"] is None else round(r["median_hours"], 1),
            "p90_hours": None if r["p90_hours"] is None else round(r["p90_hours"], 1),
        }
        for r in db.read(APPROVAL_LEAD_TIMES, params)
    ]
    totals = {r["activity"]: r["total"] for r in db.read(MODEL_EVENTS, params)}
    unauthorized = {
        check: len(run_in_windows(db, catalog.get(check), scenario, windows, as_of, since))
        for check in ("unapproved-deployment", "unapproved-change")
    }
    deployments, changes = totals.get("deployed", 0), totals.get("change_deployed", 0)
    return {
        "scenario": scenario,
        "as_of": as_of.isoformat(),
        "since": since.isoformat() if since else None,
        "events": db.read(COUNT, params)[0]["n"],
        "approval_lead_times": sorted(lead, key=lambda r: TIER_ORDER.get(r["risk_tier"], 9)),
        "authorized": {
            "deployments": {
                "total": deployments,
                "authorized": deployments - unauthorized["unapproved-deployment"],
                "share": _share(deployments - unauthorized["unapproved-deployment"], deployments),
            },
            "changes": {
                "total": changes,
                "authorized": changes - unauthorized["unapproved-change"],
                "share": _share(changes - unauthorized["unapproved-change"], changes),
            },
        },
        "cycle_times": db.read(CYCLE_TIMES, params),
        "approvers": db.read(APPROVERS, params),
    }


TIER_ORDER = {"unacceptable": 0, "high": 1, "limited": 2, "minimal": 3, "none": 4}


def _tier_hours(stats: dict[str, Any]) -> dict[str, float | None]:
    return {row["risk_tier"]: row["median_hours"] for row in stats["approval_lead_times"]}


def trend_section(db: Reader, catalog: Catalog, scenario: str, as_of: date, days: int = 28) -> dict[str, Any] | None:
    """The weekly report's event-log section (events.md, "Metrics", and their trend): the metrics
    over the `days` up to `as_of` (``now``) and over the `days` before (``before``), and ``rows``
    ``[{metric, now, before}]`` comparing the headline figures; None when the scenario has no
    events at all."""
    if not db.read("MATCH (e:Event {scenario: $s}) RETURN e.id AS id LIMIT 1", {"s": scenario}):
        return None
    window = timedelta(days=days)
    now = event_stats(db, catalog, scenario, as_of, as_of - window + timedelta(days=1))
    before = event_stats(db, catalog, scenario, as_of - window, as_of - 2 * window + timedelta(days=1))
    rows: list[dict[str, Any]] = [
        {"metric": "events", "now": now["events"], "before": before["events"]},
        {
            "metric": "deployments authorized (share)",
            "now": now["authorized"]["deployments"]["share"],
            "before": before["authorized"]["deployments"]["share"],
        },
        {
            "metric": "changes authorized (share)",
            "now": now["authorized"]["changes"]["share"],
            "before": before["authorized"]["changes"]["share"],
        },
        {
            "metric": "approvals",
            "now": sum(r["approvals"] for r in now["approval_lead_times"]),
            "before": sum(r["approvals"] for r in before["approval_lead_times"]),
        },
    ]
    hours_now, hours_before = _tier_hours(now), _tier_hours(before)
    for tier in sorted(set(hours_now) | set(hours_before), key=lambda t: TIER_ORDER.get(t, 9)):
        rows.append(
            {
                "metric": f"median approval lead time, {tier} risk (hours)",
                "now": hours_now.get(tier),
                "before": hours_before.get(tier),
            }
        )
    return {"days": days, "now": now, "before": before, "rows": rows}


def _shown(metric: str, value: Any) -> str:
    if value is None:
        return "-"
    if "share" in metric:
        return f"{value:.0%}"
    return str(value)


def _movement(now: Any, before: Any) -> str:
    if now is None or before is None:
        return ""
    return "up" if now > before else "down" if now < before else "same"


def shown_rows(section: dict[str, Any]) -> list[dict[str, str]]:
    """The section's rows as the report prints them: ``{metric, now, before, movement}`` texts
    (a share as a percentage, a missing figure as ``-``, movement ``up``/``down``/``same``)."""
    return [
        {
            "metric": r["metric"],
            "now": _shown(r["metric"], r["now"]),
            "before": _shown(r["metric"], r["before"]),
            "movement": _movement(r["now"], r["before"]),
        }
        for r in section["rows"]
    ]


def events_markdown(section: dict[str, Any] | None) -> list[str]:
    """report.md's event-log section (no lines when the scenario has no events)."""
    if section is None:
        return []
    lines = [
        "## Event log",
        "",
        f"What people did, over the last {section['days']} days and the {section['days']} before"
        " (`tomgraph events stats` for the details).",
        "",
        f"| metric | last {section['days']} days | the {section['days']} before | movement |",
        "| --- | ---: | ---: | --- |",
    ]
    lines += [f"| {r['metric']} | {r['now']} | {r['before']} | {r['movement']} |" for r in shown_rows(section)]
    return [*lines, ""]
