"""Which version of a scenario was in force when: the one place that asks.

An event is judged against the version of the scenario in force at the event's time
(events.md). Each version is a *window*: the physical scenario name its entities are stored
under, and the days it was in force. Every caller (the conformance checks, the stats) gets its
windows from `windows_for`, so that switching to versioned scenarios (history, cli.md `--at`)
changes this one function.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol


class Reader(Protocol):
    def read(self, cypher: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class VersionWindow:
    """One version of a scenario: stored under `physical`, the `seq`-th version, in force from
    `start` (inclusive; None: since ever) to `end` (exclusive; None: still in force)."""

    physical: str
    seq: int
    start: date | None
    end: date | None

    def holds(self, day: date) -> bool:
        """Whether the version was in force on `day`."""
        return (self.start is None or self.start <= day) and (self.end is None or day < self.end)


def windows_for(db: Reader, scenario: str, since: date | None, until: date | None) -> list[VersionWindow]:
    """The versions of `scenario` in force at some day of [`since`, `until`) (None: unbounded),
    oldest first, as `VersionWindow`s.

    Scenarios are not versioned yet: the one version is the scenario itself, in force always.
    When history is merged this becomes ``graph.history.versions_in_window(db, scenario, since,
    until)``, which returns the same shape.
    """
    del db, since, until
    return [VersionWindow(physical=scenario, seq=1, start=None, end=None)]
