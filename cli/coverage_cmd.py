"""`tomgraph coverage`: how far a scenario meets the frameworks' obligations (obligations.md
"Coverage"). Parsing and formatting only; the work is in queries/coverage.py and
visualizations/coverage.py."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from cli.checks_cmd import (
    EXIT_FAILURE,
    EXIT_INVALID_INPUT,
    AtOpt,
    CommandContext,
    CommandError,
    ScenarioOpt,
    _catalog,
    _parse_day,
    _reported,
    _stdout_console,
    parse_at,
)
from graph.consistent import consistent_view
from graph.sync import check_scenario_name
from queries.coverage import CoverageError, CoverageResult, coverage_in, item_label, public
from queries.frameworks import FrameworkError, Frameworks, UnknownFrameworkError, load_frameworks
from queries.waivers import UnknownScenarioError
from visualizations.coverage import by_subject, by_unit, crosswalk, subject_units, to_csv, to_html


class CoverageFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    html = "html"


class CoverageBy(StrEnum):
    obligation = "obligation"
    model = "model"
    unit = "unit"


def frameworks_or_fail(settings_dirs: Sequence[Path], only: list[str] | None) -> tuple[Frameworks, list[str] | None]:
    """The loaded frameworks and the ids asked for (commas allowed); CommandError on bad files or ids."""
    try:
        registry = load_frameworks(settings_dirs)
    except FrameworkError as exc:
        raise CommandError(exc.problems, EXIT_FAILURE) from None
    wanted = [i.strip() for item in only for i in item.split(",") if i.strip()] if only else None
    if wanted is not None:
        try:
            registry.select(wanted)
        except UnknownFrameworkError as exc:
            raise CommandError([f"--framework: {exc}"], EXIT_INVALID_INPUT) from None
    return registry, wanted


def register(app: typer.Typer, get_context: Callable[[], CommandContext]) -> None:
    """Add `coverage` to the root `tomgraph` app."""

    @app.command("coverage")
    def coverage_command(
        scenario: ScenarioOpt = "current",
        framework: Annotated[
            list[str] | None,
            typer.Option("--framework", "-f", metavar="ID", help="Framework to evaluate (repeat; default: all)."),
        ] = None,
        by: Annotated[CoverageBy, typer.Option("--by", help="Group by obligation, model (subject) or unit.")] = (
            CoverageBy.obligation
        ),
        as_of: Annotated[
            str | None, typer.Option("--as-of", metavar="YYYY-MM-DD", help="Day to evaluate for (default: today).")
        ] = None,
        output: Annotated[CoverageFormat, typer.Option("--format", help="Output format.")] = CoverageFormat.table,
        at: AtOpt = None,
    ) -> None:
        """Evaluate framework obligations (EU AI Act, ISO/IEC 42001, NIST AI RMF, your own) on a scenario.

        For each obligation: how many subjects it applies to, how many satisfy it, and for each that
        does not, the failing items. JSON (--by obligation) is obligations.md's shape; --format html
        writes a matrix of obligations by subjects. Exit status: 0; 2 bad options; 1 other failure.
        """
        ctx = get_context()
        with _reported(ctx):
            check_scenario_name(scenario)
            day = _parse_day(as_of)
            version = parse_at(at)
            registry, wanted = frameworks_or_fail(ctx.settings.framework_dirs, framework)
            catalog = _catalog(ctx.settings)
            try:
                with consistent_view(ctx.db, scenario, version) as view:
                    if not view.found:
                        raise UnknownScenarioError(f"scenario '{scenario}' has not been loaded")
                    result = coverage_in(view, registry.select(wanted), catalog, day)
                    units = subject_units(view, result) if by is not CoverageBy.obligation else {}
            except CoverageError as exc:
                raise CommandError([str(exc)], EXIT_FAILURE) from None
        write_coverage(result, by, output, units)


def write_coverage(result: CoverageResult, by: CoverageBy, output: CoverageFormat, units: dict[str, str]) -> None:
    """Print one coverage result to standard output in the chosen grouping and format."""
    if output is CoverageFormat.html:
        sys.stdout.write(to_html(result))
        return
    if output is CoverageFormat.csv:
        sys.stdout.write(to_csv(result))
        return
    rows = by_subject(result, units) if by is not CoverageBy.obligation else []
    if output is CoverageFormat.json:
        if by is CoverageBy.obligation:
            data: object = {**public(result), "crosswalk": crosswalk(result)}
        elif by is CoverageBy.model:
            data = {"scenario": result["scenario"], "as_of": result["as_of"], "subjects": rows}
        else:
            data = {"scenario": result["scenario"], "as_of": result["as_of"], "units": by_unit(rows)}
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    console = _stdout_console()
    if by is CoverageBy.obligation:
        for f in result["frameworks"]:
            table = Table(title=f"{f['framework']}: {f['coverage'] * 100:.1f}% covered", show_edge=False)
            for column in ("ref", "title", "holds", "fails: subject (items)"):
                table.add_column(column, overflow="fold")
            for o in f["obligations"]:
                fails = "; ".join(
                    f"{u['subject']} ({', '.join(item_label(i) for i in u['failing'])})" for u in o["unsatisfied"]
                )
                table.add_row(Text(o["ref"]), Text(o["title"]), f"{o['satisfied']}/{o['applicable']}", Text(fails))
            console.print(table)
    elif by is CoverageBy.model:
        table = Table(show_edge=False)
        for column in ("framework", "subject", "unit", "holds", "failing"):
            table.add_column(column, overflow="fold")
        for r in rows:
            table.add_row(
                r["framework"],
                Text(r["subject"]),
                Text(r["unit"]),
                f"{r['satisfied']}/{r['applicable']}",
                Text("; ".join(r["failing"])),
            )
        console.print(table)
    else:
        table = Table(show_edge=False)
        for column in ("framework", "unit", "holds", "subjects failing"):
            table.add_column(column, overflow="fold")
        for u in by_unit(rows):
            table.add_row(
                u["framework"],
                Text(u["unit"]),
                f"{u['satisfied']}/{u['applicable']}",
                Text(", ".join(u["failing_subjects"])),
            )
        console.print(table)
