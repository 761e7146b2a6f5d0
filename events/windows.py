"""Which version of a scenario was in force when: the one place that asks.

An event is judged against the version of the scenario in force at the event's time
(events.md). Each version is a *window*: the physical scenario name its entities are stored
under, and the days it was in force. The conformance checks and the stats get their windows
from `windows_with_events` (only the versions on days that have events); `windows_for` lists
every version (each one rebuilt if it is kept as a delta).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from graph.history import VersionWindow, versions_in_window

if TYPE_CHECKING:
    from graph.db import Database

__all__ = ["Reader", "VersionWindow", "windows_for"]


class Reader(Protocol):
    def read(self, cypher: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]: ...


def _database(db: Reader, caller: str) -> Database:
    """The database `db` is, or reads (a `graph.consistent.ScenarioView`): listing versions may
    rebuild one, which needs the database, not one read transaction."""
    from graph.consistent import ScenarioView
    from graph.db import Database

    database = db.database if isinstance(db, ScenarioView) else db
    if not isinstance(database, Database):
        raise TypeError(f"{caller} needs a Database or a ScenarioView of one")
    return database


def windows_for(db: Reader, scenario: str, since: date | None, until: date | None) -> list[VersionWindow]:
    """The versions of `scenario` in force at some day of [`since`, `until`) (None: unbounded),
    oldest first, as `graph.history.VersionWindow`s (`graph.history.versions_in_window`; `db` is a
    `Database` or a `graph.consistent.ScenarioView`, whose database is asked).

    The first version also stands for the days before it: an event dated before the scenario was
    first loaded is judged against its first version, since tomgraph has no record of the rights
    before it (docs/events.md; load the earlier state with `tomgraph load --effective DATE` to
    judge those events against it). Raises `graph.errors.NotFound` for a scenario never loaded.
    """
    database = _database(db, "windows_for")
    last = until - timedelta(days=1) if until is not None else date.max
    if since is not None and since > last:
        return []
    windows = versions_in_window(database, scenario, None, date.max)
    if windows and windows[0].start is not None:
        windows[0] = replace(windows[0], start=None)
    return [
        w for w in windows if (w.start is None or w.start <= last) and (since is None or w.end is None or w.end > since)
    ]


def windows_with_events(db: Reader, scenario: str, since: date | None, until: date | None) -> list[VersionWindow]:
    """`windows_for`, but only the versions in force on a day of [`since`, `until`) that has an
    event of the scenario's log: what the conformance checks and the stats read. A scenario
    without events reads no version (so `tomgraph check` never rebuilds past versions, which
    writes, for a scenario that has no event log)."""
    from graph.history import versions

    database = _database(db, "windows_with_events")
    last = until - timedelta(days=1) if until is not None else date.max
    if since is not None and since > last:
        return []
    rows = database.read(
        "MATCH (e:Event {scenario: $scenario}) WHERE ($since IS NULL OR e.day >= $since) AND e.day <= $last "
        "RETURN min(e.day) AS first, max(e.day) AS last",
        {"scenario": scenario, "since": since, "last": last},
    )
    if not rows or rows[0]["first"] is None:
        return []
    first_day, last_day = rows[0]["first"].to_native(), rows[0]["last"].to_native()
    kept = versions(database, scenario)
    earliest = min(v.effective for v in kept)
    # Events before the first version are judged against it (windows_for).
    low = max(first_day, earliest) if kept[0].seq != 0 else first_day
    high = max(last_day, low)
    windows = versions_in_window(database, scenario, low, high)
    if windows and windows[0].start is not None and windows[0].start <= earliest:
        windows[0] = replace(windows[0], start=None)
    return windows
