"""Running the conformance checks (events.md) once per version window.

An event is judged against the version of the scenario in force at its time. A conformance
check is a check file with ``events: true`` (queries/checks); it is run once per window of
`events.windows.windows_with_events`, with the parameters of ``queries.catalog.EVENT_CHECK_PASSED``, and
the findings of all windows are concatenated. Actors are resolved to people here, once per
version: a person's id or any of their ``aliases`` (bundle-format.md) names them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from events.windows import Reader, VersionWindow, windows_with_events
from queries.catalog import Check
from queries.findings import Finding, finding_identity

EARLIEST = date(1, 1, 1)


def actor_names(db: Reader, physical: Sequence[str]) -> dict[str, dict[str, str]]:
    """For each physical scenario, every name an actor may go by (a person's id, each of their
    aliases) mapped to the person's id. An id wins over another person's alias of the same text."""
    rows = db.read(
        "UNWIND $physical AS s MATCH (p:Person {scenario: s}) RETURN s AS scenario, p.id AS id, p.aliases AS aliases",
        {"physical": list(dict.fromkeys(physical))},
    )
    names: dict[str, dict[str, str]] = {s: {} for s in physical}
    for row in rows:
        for alias in row["aliases"] or ():
            names[row["scenario"]].setdefault(alias, row["id"])
    for row in rows:
        names[row["scenario"]][row["id"]] = row["id"]
    return names


def window_params(window: VersionWindow, as_of: date, since: date | None) -> dict[str, Any] | None:
    """The day bounds of one window's run, or None when the window has no day to judge: from the
    later of its start and `since`, until the earlier of its end and the day after `as_of`."""
    from_day = max(d for d in (window.start, since, EARLIEST) if d is not None)
    until_day = min(d for d in (window.end, as_of + timedelta(days=1)) if d is not None)
    if from_day >= until_day:
        return None
    return {"from_day": from_day, "until_day": until_day}


def run_in_windows(
    db: Reader,
    check: Check,
    scenario: str,
    windows: Sequence[VersionWindow],
    as_of: date,
    since: date | None = None,
) -> list[Finding]:
    """The findings of the event check `check` over the events of `scenario` (its logical name)
    whose day is before the end of `as_of` and from `since` on, each judged in the window of
    `windows` that holds its day: one run per window, with `$scenario` that window's physical
    name. Windows must not overlap; findings are unsorted, one per (check, subjects)."""
    from queries.runner import check_findings

    versions = [{"physical": w.physical, "start": w.start, "end": w.end} for w in windows]
    actors = actor_names(db, [w.physical for w in windows])
    found: dict[tuple[str, frozenset[str]], Finding] = {}
    for window in windows:
        bounds = window_params(window, as_of, since)
        if bounds is None:
            continue
        params: dict[str, object] = {
            **check.spec.parameters,
            "scenario": window.physical,
            "as_of": as_of,
            "events_scenario": scenario,
            "versions": versions,
            "actors": actors,
            **bounds,
        }
        for finding in check_findings(db, check, params):  # type: ignore[arg-type]
            found.setdefault(finding_identity(finding["check"], finding["subjects"]), finding)
    return list(found.values())


def run_event_check(db: Reader, check: Check, scenario: str, as_of: date, since: date | None = None) -> list[Finding]:
    """`run_in_windows` over the versions of `scenario` that `events.windows.windows_with_events` gives."""
    windows = windows_with_events(db, scenario, None, as_of + timedelta(days=1))
    return run_in_windows(db, check, scenario, windows, as_of, since)
