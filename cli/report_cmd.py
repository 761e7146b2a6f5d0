"""`tomgraph report`: the weekly gap report, compared with the previous one. Parsing and output
only; the work is in `visualizations/report.py`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cli.checks_cmd import (
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
from cli.maturity_cmd import criteria_for
from graph.sync import check_scenario_name
from queries.maturity.catalog import CriteriaError
from visualizations.pdf import PdfError
from visualizations.report import build_report, movement_text, write_report

ScenarioOpt = Annotated[str, typer.Option("--scenario", "-s", help="Scenario name.")]


def register(app: typer.Typer, get_context: Callable[[], CommandContext]) -> None:
    """Add `report` to the root `tomgraph` app."""

    @app.command("report")
    def report_command(
        scenario: ScenarioOpt = "current",
        as_of: Annotated[
            str | None, typer.Option("--as-of", metavar="YYYY-MM-DD", help="Day to report for (default: today).")
        ] = None,
        out_dir: Annotated[
            Path | None,
            typer.Option("--out", metavar="DIR", help="Where to write the files (default: reports/SCENARIO/DATE)."),
        ] = None,
        pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write summary.pdf (needs Chromium).")] = True,
        at: AtOpt = None,
    ) -> None:
        """Write the weekly gap report and store this run as the scenario's snapshot for the date.

        Writes report.html (self-contained), trend.png, report.md, findings.csv, findings.xlsx,
        report.json and the one-page executive summary summary.pdf (unless --no-pdf) to DIR;
        compares with the latest earlier snapshot (new, resolved, persisting).
        A second run for the same date replaces that date's snapshot. The report of a past week is
        rebuilt from history with `--as-of DAY --at DAY` (the version in force that day).
        Exit status: 0 written (whatever the findings); 2 bad options; 1 the report could not be produced
        (also when summary.pdf could not be made: the other files are written, and the error says why).
        """
        ctx = get_context()
        with _reported(ctx):
            check_scenario_name(scenario)
            day = _parse_day(as_of)
            catalog = _catalog(ctx.settings)
            try:
                criteria = criteria_for(ctx.settings, catalog)
            except CriteriaError as exc:
                _fail(ctx, exc, exc.problems, EXIT_INVALID_INPUT)
            report = build_report(ctx.db, catalog, scenario, day, criteria, at=parse_at(at))
        target = out_dir if out_dir is not None else Path("reports") / scenario / day.isoformat()
        try:
            paths = write_report(report, target, pdf=pdf)
        except PdfError as exc:
            err = Console(stderr=True)
            err.print(f"error: summary.pdf: {exc}", highlight=False, markup=False, soft_wrap=True)
            err.print(f"The other report files are in {target}/ (--no-pdf skips the PDF).", markup=False)
            raise typer.Exit(1) from None
        open_ = report["counts"]["open"]
        since = f"compared with {report['previous_as_of']}" if report["previous_as_of"] else "first report"
        _stdout_console().print(
            f"Report for scenario '{scenario}' as of {report['as_of']} ({since}): "
            f"{', '.join(f'{open_[s]} {s}' for s in ('critical', 'high', 'medium', 'low'))} open. "
            f"{movement_text(report)} Written to {paths['report.html'].parent}/",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
