"""`tomgraph check`, `tomgraph checks` and `tomgraph waive`: run the gap checks, list the catalog,
and set the accepted risks. Parsing and formatting only; the work is in `queries/`."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn, Protocol, TextIO

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli.console import console
from graph.days import DayError, parse_day
from graph.db import Database
from graph.errors import NotFound
from graph.history import HistoryError
from graph.settings import Settings
from graph.sync import check_scenario_name
from queries.catalog import SEVERITY_RANK, Catalog, CatalogError, UnknownCheckError, load_catalog
from queries.coverage import OBLIGATION_UNMET, CoverageError
from queries.findings import Finding, RunResult, gate_failures
from queries.frameworks import FrameworkError
from queries.runner import CheckRunError, run_checks
from queries.waivers import UnknownScenarioError, WaiverError, read_waivers_file, replace_waivers, role_problems
from visualizations.spreadsheet import guard_cell

EXIT_FAILURE = 1
EXIT_INVALID_INPUT = 2
EXIT_GATE_FAILED = 3

CSV_COLUMNS = (
    "check",
    "severity",
    "subjects",
    "accountable",
    "message",
    "remediation",
    "waived_by",
    "waiver_reason",
    "waiver_expires",
)
SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


class CommandContext(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def db(self) -> Database: ...

    @property
    def debug(self) -> bool: ...


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class SeverityLevel(StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"


class CommandError(Exception):
    """Reported as one line per problem on standard error, then exit with ``code``."""

    def __init__(self, problems: list[str], code: int) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
        self.code = code


ScenarioOpt = Annotated[str, typer.Option("--scenario", "-s", help="Scenario name.")]
AtOpt = Annotated[
    str | None,
    typer.Option(
        "--at", metavar="YYYY-MM-DD", help="Read the scenario as it was in force on this day (default: today)."
    ),
]
"""The `--at` option of every command that reads a scenario (`check`, `view`, `report`, `diff`
and later ones): declare `at: AtOpt = None` and pass `parse_at(at)` to the read function."""


def parse_at(text: str | None, option: str = "--at") -> date | None:
    """The day `--at` names, or None (today's version); a bad date is exit 2 naming the option."""
    return None if text is None else _parse_day(text, option)


def register(app: typer.Typer, get_context: Callable[[], CommandContext]) -> None:
    """Add `check`, `checks` and `waive` to the root `tomgraph` app."""

    @app.command("check")
    def check_command(
        scenario: ScenarioOpt = "current",
        as_of: Annotated[
            str | None, typer.Option("--as-of", metavar="YYYY-MM-DD", help="Day to check for (default: today).")
        ] = None,
        only: Annotated[
            list[str] | None,
            typer.Option("--only", metavar="ID", help="Run only this check (repeat, or separate ids with commas)."),
        ] = None,
        output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.table,
        fail_on: Annotated[
            SeverityLevel | None,
            typer.Option("--fail-on", help="Exit with status 3 when an unwaived finding at or above this exists."),
        ] = None,
        since: Annotated[
            str | None,
            typer.Option(
                "--since", metavar="YYYY-MM-DD", help="Event-log checks: only events from this day on (events.md)."
            ),
        ] = None,
        framework: Annotated[
            list[str] | None,
            typer.Option(
                "--framework",
                metavar="ID",
                help="Framework in force (repeat): its unmet obligations are obligation-unmet findings."
                " Default: the bundle's meta.frameworks, else none.",
            ),
        ] = None,
        at: AtOpt = None,
    ) -> None:
        """Run the gap checks on a scenario and report the findings.

        Exit status: 0, or 3 when --fail-on is given and an unwaived finding at or above that
        severity exists; 2 for bad options; 1 for any other failure.
        """
        ctx = get_context()
        with _reported(ctx):
            check_scenario_name(scenario)
            day = _parse_day(as_of)
            start = _parse_since(since)
            catalog = _catalog(ctx.settings)
            wanted = [i.strip() for item in only for i in item.split(",") if i.strip()] if only else None
            from cli.coverage_cmd import frameworks_or_fail

            registry, in_force = frameworks_or_fail(ctx.settings.framework_dirs, framework)
            result = run_checks(
                ctx.db,
                catalog,
                scenario,
                day,
                only=wanted,
                frameworks=in_force,
                registry=registry,
                at=parse_at(at),
                since=start,
            )
        if output is OutputFormat.json:
            sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        elif output is OutputFormat.csv:
            write_csv(result, sys.stdout)
        else:
            print_table(result, _stdout_console())
        if fail_on is not None and gate_failures(result, fail_on.value):
            raise typer.Exit(EXIT_GATE_FAILED)

    @app.command("checks")
    def checks_command() -> None:
        """List the gap-check catalog: id, severity (with when it is raised), title and source file."""
        ctx = get_context()
        with _reported(ctx):
            catalog = _catalog(ctx.settings)
        table = Table(show_edge=False)
        for column in ("id", "severity", "title", "source"):
            table.add_column(column, overflow="fold")
        for check in catalog.checks:
            cells = (check.id, check.spec.severity_label, check.spec.title, str(check.source))
            table.add_row(*(Text(c) for c in cells))
        _stdout_console().print(table)

    @app.command("waive")
    def waive_command(
        file: Annotated[Path, typer.Argument(help="waivers.yaml: the complete list of the scenario's waivers.")],
        scenario: ScenarioOpt = "current",
    ) -> None:
        """Set the scenario's waivers (accepted risks) to exactly those in FILE.

        Each waiver has check, subjects, accepted_by (a role id), reason and expires (YYYY-MM-DD).
        Exit status: 0 set; 2 invalid file, every problem listed, waivers unchanged; 1 other failure.
        """
        ctx = get_context()
        with _reported(ctx):
            check_scenario_name(scenario)
            catalog = _catalog(ctx.settings)
            read = read_waivers_file(file, known_checks=[*catalog.ids(), OBLIGATION_UNMET])
            # Every problem in one pass: those of the file and the roles the scenario lacks.
            problems = read.problems + role_problems(ctx.db, scenario, read.accepted_by)
            if problems:
                raise WaiverError(problems)
            count = replace_waivers(ctx.db, scenario, read.waivers)
        _stdout_console().print(
            f"{count} waiver{'' if count == 1 else 's'} set for scenario '{scenario}' from {file}", highlight=False
        )


def _stdout_console() -> Console:
    """Rich on a terminal; when piped, lines are not wrapped so that they stay greppable."""
    return console()


def _catalog(settings: Settings) -> Catalog:
    return load_catalog(settings.check_dirs)


def _parse_day(text: str | None, option: str = "--as-of") -> date:
    """The day `text` names (default today); not a date, or one outside graph.days' range, is a
    CommandError (exit 2) naming `option`."""
    if text is None:
        return date.today()
    try:
        return parse_day(text)
    except DayError as e:
        raise CommandError([f"{option}: {e}"], EXIT_INVALID_INPUT) from None


def _parse_since(text: str | None) -> date | None:
    return None if text is None else _parse_day(text, "--since")


@contextmanager
def _reported(ctx: CommandContext) -> Iterator[None]:
    """Turn the expected failures into one line each on standard error and an exit status."""
    try:
        yield
    except CommandError as exc:
        _fail(ctx, exc, exc.problems, exc.code)
    except UnknownCheckError as exc:
        _fail(ctx, exc, [str(exc)], EXIT_INVALID_INPUT)
    except WaiverError as exc:
        _fail(ctx, exc, exc.problems, EXIT_INVALID_INPUT)
    except (CatalogError, FrameworkError) as exc:
        _fail(ctx, exc, exc.problems, EXIT_FAILURE)
    except (CheckRunError, UnknownScenarioError, CoverageError, NotFound, HistoryError) as exc:
        _fail(ctx, exc, [str(exc)], EXIT_FAILURE)


def _fail(ctx: CommandContext, exc: Exception, problems: list[str], code: int) -> NoReturn:
    if ctx.debug:
        raise exc
    err = console(stderr=True)
    for problem in problems:
        err.print(f"error: {problem}", highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(code)


def write_csv(result: RunResult, stream: TextIO) -> None:
    """One row per finding; subjects joined by ';'; the waiver columns are empty when unwaived. Every
    cell passes the one formula guard of every CSV and XLSX tomgraph writes (visualizations/spreadsheet.py)."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for finding in result["findings"]:
        waived = finding.get("waived")
        writer.writerow(
            guard_cell(cell)
            for cell in [
                finding["check"],
                finding["severity"],
                ";".join(finding["subjects"]),
                finding["accountable"] or "",
                finding["message"],
                finding["remediation"],
                waived["accepted_by"] if waived else "",
                waived["reason"] if waived else "",
                waived["expires"] if waived else "",
            ]
        )


def print_table(result: RunResult, console: Console) -> None:
    """Findings grouped by severity, most severe first, then a one-line summary."""
    findings = result["findings"]
    where = f"scenario '{result['scenario']}' as of {result['as_of']}"
    if not findings:
        console.print(f"No findings for {where}.", highlight=False)
    for severity in SEVERITY_RANK:
        group = [f for f in findings if f["severity"] == severity]
        if group:
            console.print(_severity_table(severity, group))
    expired = result.get("expired_waivers", [])
    if expired:
        table = Table(title="Expired waivers (no longer hide anything)", title_justify="left", show_edge=False)
        for column in ("check", "subjects", "accepted by", "expired", "reason"):
            table.add_column(column, overflow="fold")
        for waiver in expired:
            cells = (waiver["check"], ", ".join(waiver["subjects"]), waiver["accepted_by"], waiver["expires"])
            table.add_row(*(Text(c) for c in (*cells, waiver["reason"])))
        console.print(table)
    if findings:
        console.print(_summary(findings, where), highlight=False)


def _severity_table(severity: str, group: list[Finding]) -> Table:
    style = SEVERITY_STYLE[severity]
    table = Table(
        title=f"[{style}]{severity.upper()}[/] ({len(group)})", title_justify="left", show_edge=False, expand=False
    )
    for column in ("check", "subjects", "accountable", "message"):
        table.add_column(column, overflow="fold")
    for finding in group:
        waived = finding.get("waived")
        message = finding["message"]
        if waived:
            message += f" [waived by {waived['accepted_by']} until {waived['expires']}: {waived['reason']}]"
        cells = (finding["check"], ", ".join(finding["subjects"]), finding["accountable"] or "-", message)
        table.add_row(*(Text(c) for c in cells), style="dim" if waived else None)
    return table


def _summary(findings: list[Finding], where: str) -> str:
    counts = [
        f"{n} {severity}" for severity in SEVERITY_RANK if (n := sum(f["severity"] == severity for f in findings))
    ]
    waived = sum("waived" in f for f in findings)
    total = f"{len(findings)} finding{'' if len(findings) == 1 else 's'}"
    return f"{total} for {where}: {', '.join(counts)}" + (f"; {waived} waived" if waived else "")
