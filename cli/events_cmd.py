"""`tomgraph events load` and `tomgraph events stats`: load an event log, and the governance
metrics it gives (events.md). Parsing and formatting only; the work is in `events/`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cli.checks_cmd import EXIT_INVALID_INPUT, CommandContext, CommandError, _parse_day, _reported
from cli.console import console
from events.forms import FORMS, FormError
from events.stats import event_stats
from events.store import load_events
from graph.sync import check_scenario_name
from queries.catalog import load_catalog

ScenarioOpt = Annotated[str, typer.Option("--scenario", "-s", help="Scenario name.")]


class StatsFormat(StrEnum):
    table = "table"
    json = "json"


def parse_day(option: str, text: str | None) -> date | None:
    """`text` as a date YYYY-MM-DD in graph.days' range (None stays None); a CommandError (exit 2)
    naming `option` otherwise."""
    return None if text is None else _parse_day(text, option)


def register(app: typer.Typer, get_context: Callable[[], CommandContext]) -> None:
    """Add `events load` and `events stats` to the root `tomgraph` app."""
    events_app = typer.Typer(
        help="Event logs: what people did, checked against the decision rights.", no_args_is_help=True
    )
    app.add_typer(events_app, name="events")

    @events_app.command("load")
    def load_command(
        file: Annotated[Path, typer.Argument(help="The log: .csv, .json, .jsonl, .xes or OCEL 2.0 .jsonocel/.json.")],
        scenario: ScenarioOpt = "current",
        form: Annotated[
            str | None,
            typer.Option("--form", help=f"The log's form when its name does not say it: {', '.join(FORMS)}."),
        ] = None,
    ) -> None:
        """Load an event log into scenario S (its bundle must be loaded), all validated first.

        Loading the same log again adds nothing. Loads into one scenario run one at a time: this
        one waits for another at most TOMGRAPH_EVENTS_LOAD_WAIT_S seconds (default 600). Exit
        status: 0 loaded; 2 malformed log, every problem listed as PLACE: FIELD: MESSAGE, nothing
        stored; 1 any other failure (another load still running after the wait: nothing stored).
        """
        ctx = get_context()
        with _reported(ctx):
            check_scenario_name(scenario)
            if form is not None and form not in FORMS:
                raise CommandError([f"--form: '{form}' is not one of {', '.join(FORMS)}"], EXIT_INVALID_INPUT)
            try:
                result = load_events(
                    ctx.db,
                    file,
                    scenario,
                    form=form,
                    wait_s=ctx.settings.events_load_wait_s,
                    workers=ctx.settings.events_load_workers,
                    waiting=lambda wait_s: console(stderr=True).print(
                        f"Waiting for another load of events into scenario '{scenario}' to end"
                        f" (at most {wait_s:g} s, TOMGRAPH_EVENTS_LOAD_WAIT_S)",
                        highlight=False,
                        markup=False,
                        soft_wrap=True,
                    ),
                )
            except FormError as e:
                raise CommandError([str(e)], EXIT_INVALID_INPUT) from None
        console().print(
            f"Loaded {file} ({result.form}) into scenario '{scenario}' in {result.seconds:.1f} s: "
            f"{result.read} events read, {result.added} added, {result.unchanged} already loaded; "
            f"{result.event_count} events in the scenario",
            highlight=False,
            soft_wrap=True,
        )
        if result.unresolved_requests:
            n = result.unresolved_requests
            one = n == 1
            console().print(
                f"Note: {n} {'approval or rejection names as its' if one else 'approvals or rejections name as their'}"
                " request an event in neither this log nor the scenario (in a log not loaded yet?);"
                f" self-approval-in-practice and slow-approval judge {'it' if one else 'them'} once that is loaded",
                highlight=False,
                soft_wrap=True,
            )

    @events_app.command("stats")
    def stats_command(
        scenario: ScenarioOpt = "current",
        since: Annotated[
            str | None, typer.Option("--since", metavar="YYYY-MM-DD", help="Only events from this day on.")
        ] = None,
        as_of: Annotated[
            str | None, typer.Option("--as-of", metavar="YYYY-MM-DD", help="Last day counted (default: today).")
        ] = None,
        output: Annotated[StatsFormat, typer.Option("--format", help="Output format.")] = StatsFormat.table,
    ) -> None:
        """Approval lead time per risk tier, authorized share of deployments and changes, use-case
        cycle times, and per-approver counts and approval rate (events.md, "Metrics").

        Exit status: 0; 2 for bad options; 1 for any other failure (an unknown scenario).
        """
        ctx = get_context()
        with _reported(ctx):
            check_scenario_name(scenario)
            day = parse_day("--as-of", as_of) or date.today()
            start = parse_day("--since", since)
            if not ctx.db.read("MATCH (s:Scenario {name: $s}) RETURN 1 AS found", {"s": scenario}):
                from queries.waivers import UnknownScenarioError

                raise UnknownScenarioError(f"scenario '{scenario}' has not been loaded")
            stats = event_stats(ctx.db, load_catalog(ctx.settings.check_dirs), scenario, day, start)
        if output is StatsFormat.json:
            sys.stdout.write(json.dumps(stats, indent=2, ensure_ascii=False) + "\n")
        else:
            print_stats(stats)


def _num(value: Any, suffix: str = "") -> str:
    return "-" if value is None else f"{value}{suffix}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def print_stats(stats: dict[str, Any]) -> None:
    """The stats as four tables and a heading line."""
    out = console()
    window = f"from {stats['since']} " if stats["since"] else ""
    out.print(
        f"Events of scenario '{stats['scenario']}' {window}up to {stats['as_of']}: {stats['events']}", highlight=False
    )
    lead = Table(title="Approval lead time per risk tier (request to approval)", title_justify="left", show_edge=False)
    for column in ("risk tier", "approvals", "with request", "median h", "p90 h"):
        lead.add_column(column, justify="left" if column == "risk tier" else "right")
    for row in stats["approval_lead_times"]:
        lead.add_row(
            row["risk_tier"],
            str(row["approvals"]),
            str(row["with_request"]),
            _num(row["median_hours"]),
            _num(row["p90_hours"]),
        )
    out.print(lead)
    auth = Table(title="Authorized share", title_justify="left", show_edge=False)
    for column in ("", "total", "authorized", "share"):
        auth.add_column(column, justify="right" if column else "left")
    for name in ("deployments", "changes"):
        row = stats["authorized"][name]
        auth.add_row(name, str(row["total"]), str(row["authorized"]), _pct(row["share"]))
    out.print(auth)
    cycle = Table(title="Use-case cycle times (days from first stage change)", title_justify="left", show_edge=False)
    for column in ("use case", "to approved", "to live"):
        cycle.add_column(column, justify="left" if column == "use case" else "right")
    for row in stats["cycle_times"]:
        cycle.add_row(row["use_case"], _num(row["days_to_approved"]), _num(row["days_to_live"]))
    out.print(cycle)
    people = Table(title="Approvers", title_justify="left", show_edge=False)
    for column in ("actor", "approvals", "rejections", "approval rate"):
        people.add_column(column, justify="left" if column == "actor" else "right")
    for row in stats["approvers"]:
        name = row["actor"] if row["known"] else f"{row['actor']} (unknown)"
        people.add_row(name, str(row["approvals"]), str(row["rejections"]), _pct(row["approval_rate"]))
    out.print(people)
