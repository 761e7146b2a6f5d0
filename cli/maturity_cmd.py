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
    CommandContext,
    _catalog,
    _fail,
    _parse_day,
    _reported,
    _stdout_console,
)
from graph.errors import NotFound
from graph.settings import Settings
from graph.sync import check_scenario_name
from queries.catalog import Catalog
from queries.maturity.catalog import CriteriaError, Criterion, load_criteria
from queries.maturity.scorecard import scorecard
from visualizations.maturity_html import render_maturity_html


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
    ) -> None:
        """The maturity scorecard (maturity.md): each scope's stage (none, foundation, initiate,
        scale, improve) and every criterion with its value, threshold, evidence and self-assessment.

        Exit status: 0; 2 bad options or bad criterion files; 1 no such scenario or unit, or another failure.
        """
        ctx = get_context()
        with _reported(ctx):
            check_scenario_name(scenario)
            day = _parse_day(as_of)
            if unit is not None and by_unit:
                _fail(ctx, ValueError(), ["--unit and --by-unit: give one or the other"], EXIT_INVALID_INPUT)
            catalog = _catalog(ctx.settings)
            try:
                criteria = criteria_for(ctx.settings, catalog)
            except CriteriaError as exc:
                _fail(ctx, exc, exc.problems, EXIT_INVALID_INPUT)
            try:
                result = scorecard(ctx.db, catalog, criteria, scenario, day, unit=unit, by_unit=by_unit)
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
