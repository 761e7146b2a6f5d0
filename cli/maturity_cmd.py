"""`tomgraph maturity` and `tomgraph plan`: the maturity scorecard and the transition plan.
Parsing and output only; the work is in `queries/maturity/` and `queries/plan.py`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.checks_cmd import (
    EXIT_FAILURE,
    EXIT_INVALID_INPUT,
    AtOpt,
    CommandContext,
    _catalog,
    _fail,
    _parse_day,
    _reported,
    _stdout_console,
    parse_at,
)
from cli.history_cmd import parse_sides
from graph.errors import NotFound
from graph.settings import Settings
from graph.sync import check_scenario_name
from queries.catalog import Catalog
from queries.maturity.catalog import CriteriaError, Criterion, load_criteria
from queries.maturity.scorecard import scorecard
from queries.plan import transition_plan
from visualizations.maturity_html import render_maturity_html, render_plan_html


class Format(StrEnum):
    table = "table"
    json = "json"
    html = "html"


def criteria_for(settings: Settings, catalog: Catalog) -> tuple[Criterion, ...]:
    """The built-in criteria and those of the ``maturity_dirs`` setting (CriteriaError if bad)."""
    return load_criteria(settings.maturity_dirs, known_checks=catalog.ids())


def register(app: typer.Typer, get_context: Callable[[], CommandContext]) -> None:
    """Add `maturity` to the root `tomgraph` app."""

    @app.command("maturity")
    def maturity_command(
        scenario: Annotated[str, typer.Option("--scenario", "-s", help="Scenario name.")] = "current",
        unit: Annotated[str | None, typer.Option("--unit", help="One unit (with its sub-units).")] = None,
        by_unit: Annotated[bool, typer.Option("--by-unit", help="The organisation, then every unit.")] = False,
        as_of: Annotated[
            str | None, typer.Option("--as-of", metavar="YYYY-MM-DD", help="Day to measure for (default: today).")
        ] = None,
        output: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
        at: AtOpt = None,
    ) -> None:
        """The maturity scorecard (maturity.md): each scope's stage (none, foundation, initiate,
        scale, improve) and every criterion with its value, threshold, evidence and self-assessment.

        Exit status: 0; 2 bad options or bad criterion files; 1 no such scenario or unit, or another failure.
        """
        ctx = get_context()
        with _reported(ctx):
            check_scenario_name(scenario)
            day = _parse_day(as_of)
            version = parse_at(at)
            if unit is not None and by_unit:
                _fail(ctx, ValueError(), ["--unit and --by-unit: give one or the other"], EXIT_INVALID_INPUT)
            catalog = _catalog(ctx.settings)
            try:
                criteria = criteria_for(ctx.settings, catalog)
            except CriteriaError as exc:
                _fail(ctx, exc, exc.problems, EXIT_INVALID_INPUT)
            try:
                result = scorecard(ctx.db, catalog, criteria, scenario, day, unit=unit, by_unit=by_unit, at=version)
            except NotFound as exc:
                _fail(ctx, exc, [str(exc)], EXIT_FAILURE)
        if output is Format.json:
            sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        elif output is Format.html:
            sys.stdout.write(render_maturity_html(result, {c.id: c.spec.title for c in criteria}))
        else:
            print_scorecard(result, _stdout_console())


def print_scorecard(result: dict[str, Any], out: Console) -> None:
    """One table per scope: stage, then each criterion."""
    for scope in result["scopes"]:
        table = Table(
            title=f"{scope['scope']}: stage {scope['stage']} (scenario {result['scenario']}, as of {result['as_of']})",
            title_justify="left",
            show_edge=False,
        )
        for column in ("stage", "criterion", "passed", "value", "threshold", "assessment", "evidence"):
            table.add_column(column, overflow="fold")
        for c in scope["criteria"]:
            more = len(c["evidence"]) - 5
            evidence = ", ".join(c["evidence"][:5]) + (f" and {more} more" if more > 0 else "")
            table.add_row(
                c["stage"],
                c["id"],
                "yes" if c["passed"] else "NO",
                "-" if c["value"] is None else str(c["value"]),
                str(c["threshold"]),
                c["assessment"] or "-",
                evidence or "-",
            )
        out.print(table)


def register_plan(app: typer.Typer, get_context: Callable[[], CommandContext]) -> None:
    """Add `plan` to the root `tomgraph` app."""

    @app.command("plan")
    def plan_command(
        source: Annotated[
            str, typer.Argument(metavar="FROM", help="Scenario to start from (e.g. current, or current@2026-03-01).")
        ],
        target: Annotated[str, typer.Argument(metavar="TO", help="Scenario to reach (e.g. target, or target@DAY).")],
        as_of: Annotated[
            str | None,
            typer.Option("--as-of", metavar="YYYY-MM-DD", help="Day for the checks and for overdue (default: today)."),
        ] = None,
        output: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
        at: AtOpt = None,
    ) -> None:
        """The transition plan from FROM to TO (maturity.md): the diff grouped by the initiatives of
        TO that deliver what each change touches, the changes no initiative covers, the findings
        each initiative fixes or introduces, and the overdue and unowned initiatives. The html
        format adds a roadmap (initiatives on a time axis by due date). `S@YYYY-MM-DD` is the
        version of S in force that day; `--at` reads both sides as in force that day.

        Exit status: 0; 2 bad options; 1 a scenario is missing or another failure.
        """
        ctx = get_context()
        with _reported(ctx):
            sides = parse_sides(source, target, ("FROM", "TO"), at, as_of)
            catalog = _catalog(ctx.settings)
            try:
                result = transition_plan(
                    ctx.db, catalog, sides.a, sides.b, sides.as_of, at_a=sides.at_a, at_b=sides.at_b
                )
            except NotFound as exc:
                _fail(ctx, exc, [str(exc)], EXIT_FAILURE)
        if output is Format.json:
            sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        elif output is Format.html:
            sys.stdout.write(render_plan_html(result))
        else:
            print_plan(result, _stdout_console())


def change_text(change: dict[str, Any]) -> str:
    """One line for a change of the plan."""
    if change["change"] == "move":
        return str(change["text"])
    if change["change"] == "relationship":
        return f"{change['type']} {change['start']} -> {change['end']} {change['action']}"
    return f"{change['kind']} {change['id']} {change['action']}"


def print_plan(result: dict[str, Any], out: Console) -> None:
    """The initiatives (one table), then each one's changes and findings, then what no initiative covers."""
    c = result["counts"]
    out.print(
        f"Plan {result['from']} -> {result['to']} as of {result['as_of']}: {c['initiatives']} initiatives; "
        f"{c['covered']} of {c['changes']} changes covered, {c['uncovered']} by no initiative; "
        f"findings {c['findings_fixed']} fixed, {c['findings_introduced']} introduced.",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    table = Table(title="Initiatives", title_justify="left", show_edge=False)
    for column in ("due", "initiative", "status", "accountable", "budget", "changes", "fixes", "introduces", "flags"):
        table.add_column(column, overflow="fold")
    for i in result["initiatives"]:
        acc = i["accountable"]
        who = "NOBODY" if acc is None else f"{acc['name']} ({', '.join(h['name'] for h in acc['holders']) or 'vacant'})"
        flags = ", ".join(f for f, on in (("OVERDUE", i["overdue"]), ("UNOWNED", acc is None)) if on)
        table.add_row(
            i["due"] or "-",
            f"{i['name']} ({i['id']})",
            i["status"],
            who,
            i["budget"] or "-",
            str(len(i["changes"])),
            str(len(i["fixes"])),
            str(len(i["introduces"])),
            flags or "-",
        )
    out.print(table)
    for i in result["initiatives"]:
        if i["changes"] or i["fixes"] or i["introduces"]:
            out.print(f"\n{i['id']}:", highlight=False, markup=False)
            for ch in i["changes"]:
                out.print(f"  change  {change_text(ch)}", highlight=False, markup=False, soft_wrap=True)
            for f in i["fixes"]:
                out.print(f"  fixes   {f['check']} ({', '.join(f['subjects'])})", highlight=False, markup=False)
            for f in i["introduces"]:
                out.print(f"  adds    {f['check']} ({', '.join(f['subjects'])})", highlight=False, markup=False)
    out.print("\nChanges no initiative covers:", highlight=False, markup=False)
    for ch in result["uncovered"] or []:
        out.print(f"  {change_text(ch)}", highlight=False, markup=False, soft_wrap=True)
    if not result["uncovered"]:
        out.print("  none", highlight=False, markup=False)
