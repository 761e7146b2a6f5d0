"""`tomgraph history` and the `--at DATE` option that every read command shares (cli.md, "Added
in v1.1"). Parsing and output only; the work is in `graph/history.py`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from cli.checks_cmd import CommandContext, _parse_day, _reported, _stdout_console, parse_at
from graph.history import versions
from graph.sync import check_scenario_name


def parse_version_ref(text: str, argument: str) -> tuple[str, date | None]:
    """`S` or `S@YYYY-MM-DD` (the version of S in force that day), as (scenario, day)."""
    name, sep, day = text.partition("@")
    check_scenario_name(name)
    return name, parse_at(day, argument) if sep else None


@dataclass(frozen=True)
class Sides:
    """The two sides of `diff A B` or `plan FROM TO`: each scenario and the day it is read at
    (`S@DAY`, else `--at`, else None: today), and `--as-of` for the checks."""

    a: str
    at_a: date | None
    b: str
    at_b: date | None
    as_of: date


def parse_sides(a: str, b: str, names: tuple[str, str], at: str | None, as_of: str | None) -> Sides:
    """`A` and `B` as `S` or `S@YYYY-MM-DD` (`names` says what to call them in an error), `--at`
    for a side without its own day, and `--as-of` (default today). Raises the CLI's bad-option
    error (exit 2) on a bad name or day."""
    name_a, at_a = parse_version_ref(a, names[0])
    name_b, at_b = parse_version_ref(b, names[1])
    both = parse_at(at)
    return Sides(name_a, at_a or both, name_b, at_b or both, _parse_day(as_of))


class HistoryFormat(StrEnum):
    table = "table"
    json = "json"


def register(app: typer.Typer, get_context: Callable[[], CommandContext]) -> None:
    """Add `history` to the root `tomgraph` app."""

    @app.command("history")
    def history_command(
        scenario: Annotated[str, typer.Option("--scenario", "-s", help="Scenario name.")] = "current",
        output: Annotated[HistoryFormat, typer.Option("--format", help="Output format.")] = HistoryFormat.table,
    ) -> None:
        """List the scenario's versions: number, the day each came into force, when it was
        loaded, its size, what it changed, and how it is stored (a copy, a cached copy, or a
        delta rebuilt on first read).

        Exit status: 0; 2 bad options; 1 unknown scenario or other failure.
        """
        ctx = get_context()
        with _reported(ctx):
            check_scenario_name(scenario)
            found = versions(ctx.db, scenario)
        if output is HistoryFormat.json:
            rows = [v.as_dict() for v in found]
            sys.stdout.write(json.dumps({"scenario": scenario, "versions": rows}, indent=2) + "\n")
            return
        table = Table(title=f"Versions of scenario '{scenario}'", title_justify="left", show_edge=False)
        for column in ("version", "in force from", "loaded at", "entities", "relationships", "changes", "stored"):
            table.add_column(column, overflow="fold")
        for v in found:
            table.add_row(
                *(
                    Text(str(c))
                    for c in (
                        v.seq,
                        v.effective.isoformat(),
                        v.loaded_at[:19],
                        v.entity_count,
                        v.relationship_count,
                        _changes(v.changes),
                        v.stored,
                    )
                )
            )
        _stdout_console().print(table)


def _changes(changes: dict[str, dict[str, dict[str, int]]]) -> str:
    parts = []
    for group in ("entities", "relationships"):
        totals = {
            k: sum(c.get(k, 0) for c in changes.get(group, {}).values()) for k in ("created", "updated", "removed")
        }
        shown = ", ".join(f"{n} {k}" for k, n in totals.items() if n)
        if shown:
            parts.append(f"{group}: {shown}")
    return "; ".join(parts) or "-"
