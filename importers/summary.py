"""What an import wrote and what had no place in the bundle (import.md, first paragraph)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class LeftOut:
    """One thing left out of the bundle: where it was written, what it was, and why."""

    place: str
    what: str
    reason: str

    def __str__(self) -> str:
        return f"{self.place}: {self.what}: {self.reason}"


@dataclass
class ImportSummary:
    """Entities written per section; what had no place, counted by the source's own type; and
    each reference or value left out, with its place.

    `unplaced` keys are the source's type names (`Node`, `AssignmentRelationship`, `API`,
    `column Cost`, ...), so a user sees which kinds of source data the bundle cannot hold.
    """

    source: str
    written: Counter[str] = field(default_factory=Counter)
    unplaced: Counter[str] = field(default_factory=Counter)
    left_out: list[LeftOut] = field(default_factory=list)
    defaults: Counter[str] = field(default_factory=Counter)

    def no_place(self, source_type: str, count: int = 1) -> None:
        self.unplaced[source_type] += count

    def leave_out(self, place: str, what: str, reason: str) -> None:
        self.left_out.append(LeftOut(place, what, reason))

    def lines(self, max_left_out: int = 50) -> list[str]:
        """The summary as text lines, for the CLI (stable order: sections, then types, then places)."""
        total = sum(self.written.values())
        out = [f"Imported {self.source}: {total} entities"]
        for section, count in sorted(self.written.items()):
            out.append(f"  {section}: {count}")
        if self.defaults:
            out.append("Filled with a default (check these):")
            out += [f"  {what}: {count}" for what, count in sorted(self.defaults.items())]
        if self.unplaced:
            out.append("No place in the bundle (counted by source type):")
            out += [f"  {what}: {count}" for what, count in sorted(self.unplaced.items())]
        else:
            out.append("No place in the bundle: nothing")
        if self.left_out:
            out.append(f"Left out ({len(self.left_out)}):")
            shown = sorted(self.left_out)[:max_left_out]
            out += [f"  {item}" for item in shown]
            if len(self.left_out) > max_left_out:
                out.append(f"  ... and {len(self.left_out) - max_left_out} more")
        return out
