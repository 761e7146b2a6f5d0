"""`tomgraph diff A B`: what changes from scenario A to scenario B. Parsing and output only; the
work is in `queries/diff.py`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli.checks_cmd import (
    EXIT_FAILURE,
    AtOpt,
    CommandContext,
    _catalog,
    _fail,
    _reported,
    _stdout_console,
)
from cli.history_cmd import parse_sides
from graph.errors import NotFound
from queries.diff import diff_scenarios


class DiffFormat(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer, get_context: Callable[[], CommandContext]) -> None:
    """Add `diff` to the root `tomgraph` app."""

    @app.command("diff")
    def diff_command(
        a: Annotated[str, typer.Argument(help="Scenario to compare from (e.g. current, or current@2026-03-01).")],
        b: Annotated[str, typer.Argument(help="Scenario to compare to (e.g. target, or current@2026-06-01).")],
        as_of: Annotated[
            str | None,
            typer.Option("--as-of", metavar="YYYY-MM-DD", help="Day to run the checks for (default: today)."),
        ] = None,
        output: Annotated[DiffFormat, typer.Option("--format", help="Output format.")] = DiffFormat.text,
        at: AtOpt = None,
    ) -> None:
        """Show what changes from scenario A to B: entities and relationships added, removed and
        changed, decision rights that move between roles, and the findings B fixes and introduces.

        `S@YYYY-MM-DD` is the version of S in force that day (`tomgraph diff current@2026-03-01
        current@2026-06-01`); `--at` reads both sides as in force that day.

        Exit status: 0; 2 bad options; 1 a scenario is missing or another failure.
        """
        ctx = get_context()
        with _reported(ctx):
            sides = parse_sides(a, b, ("A", "B"), at, as_of)
            catalog = _catalog(ctx.settings)
            try:
                result = diff_scenarios(
                    ctx.db, catalog, sides.a, sides.b, sides.as_of, at_a=sides.at_a, at_b=sides.at_b
                )
            except NotFound as exc:
                _fail(ctx, exc, [str(exc)], EXIT_FAILURE)
        if output is DiffFormat.json:
            sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        else:
            print_diff(result, _stdout_console())


def _table(title: str, columns: tuple[str, ...]) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def print_diff(result: dict[str, Any], console: Console) -> None:
    """The diff for a person: summary, entities, moved decision rights, relationships, findings."""
    a, b, counts = result["a"], result["b"], result["counts"]
    entities, rels = counts["entities"], counts["relationships"]
    console.print(
        Text(
            f"From '{a}' to '{b}' (checks as of {result['as_of']}): entities {entities['added']} added, "
            f"{entities['removed']} removed, {entities['changed']} changed; relationships {rels['added']} added, "
            f"{rels['removed']} removed; {counts['moves']} decision rights moved; findings "
            f"{counts['findings']['fixed']} fixed, {counts['findings']['introduced']} introduced, "
            f"{counts['findings']['unchanged']} unchanged."
        )
    )
    for label, items in (
        ("Entities added", result["entities"]["added"]),
        ("Entities removed", result["entities"]["removed"]),
    ):
        if items:
            table = _table(f"{label} ({len(items)})", ("kind", "id", "name"))
            for e in items:
                table.add_row(*(Text(_show(v)) for v in (e["kind"], e["id"], e["name"])))
            console.print(table)
    changed = result["entities"]["changed"]
    if changed:
        table = _table(f"Entities changed ({len(changed)})", ("kind", "id", "field", "old", "new"))
        for e in changed:
            for i, (name, change) in enumerate(e["changes"].items()):
                first = i == 0
                cells = (e["kind"] if first else "", e["id"] if first else "", name, change["old"], change["new"])
                table.add_row(*(Text(_show(v)) for v in cells))
        console.print(table)
    if result["moves"]:
        console.print(Text(f"Decision rights moved ({len(result['moves'])})", style="bold"))
        for move in result["moves"]:
            console.print(Text(f"  {move['text']}"))
    for label, items in (
        ("Relationships added", result["relationships"]["added"]),
        ("Relationships removed", result["relationships"]["removed"]),
    ):
        if items:
            table = _table(f"{label} ({len(items)})", ("from", "type", "to"))
            for r in items:
                table.add_row(Text(r["start"]), Text(r["type"]), Text(r["end"]))
            console.print(table)
    for label, items in (
        (
            f"The target fixes these ({len(result['findings']['fixed'])} findings of '{a}' gone in '{b}')",
            result["findings"]["fixed"],
        ),
        (
            f"The target introduces these ({len(result['findings']['introduced'])} new in '{b}')",
            result["findings"]["introduced"],
        ),
    ):
        table = _table(label, ("severity", "check", "subjects", "accountable", "message"))
        for f in items:
            cells = (f["severity"], f["check"], ", ".join(f["subjects"]), f["accountable"] or "-", f["message"])
            table.add_row(*(Text(c) for c in cells))
        console.print(table)
