"""`tomgraph who ID`, `tomgraph deps ID` and `tomgraph impact ID`: the REST answers on the command
line (cli.md, "Added in v1.1"). They call the API's own read functions (api/graph_reads.py) with
the same async driver, so the command line and `GET /scenarios/{s}/...` cannot disagree."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from rich.text import Text

from api import graph_reads
from api.db import ApiDatabase
from api.graph_reads import MAX_DEPTH
from api.models import DependencyPage, ImpactPage, WhoAnswer
from api.problems import ApiProblem
from cli.checks_cmd import EXIT_FAILURE, AtOpt, CommandContext, _fail, _reported, _stdout_console, parse_at
from graph.db import connection_for
from graph.history import policy_from
from graph.sync import check_scenario_name

T = TypeVar("T", bound=BaseModel)
ALL = 1_000_000
"""Page size for the command line: every hit in one answer."""


class Format(StrEnum):
    text = "text"
    json = "json"


ScenarioOpt = Annotated[str, typer.Option("--scenario", "-s", help="Scenario name.")]
FormatOpt = Annotated[Format, typer.Option("--format", help="Output format.")]
IdArg = Annotated[str, typer.Argument(help="Entity id, e.g. m-uw-risk-score.")]


def _read(ctx: CommandContext, read: Callable[[ApiDatabase], Awaitable[T]]) -> T:
    """Run one of the API's async reads; a 404 (unknown scenario or id) exits 1 with its message."""
    connection = connection_for(ctx.settings)

    async def run() -> T:
        db = ApiDatabase(connection)
        db.writer = ctx.db  # rebuilds a past version kept as a delta (graph/history.py)
        db.history = policy_from(ctx.settings)
        try:
            return await read(db)
        finally:
            await db.close()

    try:
        return asyncio.run(run())
    except ApiProblem as exc:
        _fail(ctx, exc, [exc.detail], EXIT_FAILURE)


def _emit_json(answer: BaseModel) -> None:
    sys.stdout.write(answer.model_dump_json(indent=2, by_alias=True) + "\n")


def print_who(answer: WhoAnswer, console: Console) -> None:
    """The answer in words, one sentence a line, then the people per right."""
    for sentence in answer.sentences:
        console.print(Text(sentence))


def print_hits(title: str, hits: list[tuple[str, str, str | None, int, list[str]]], console: Console) -> None:
    table = Table(title=title, title_justify="left", show_edge=False)
    for column in ("distance", "kind", "id", "name", "path"):
        table.add_column(column, overflow="fold")
    for kind, entity_id, name, distance, path in hits:
        table.add_row(str(distance), kind, Text(entity_id), Text(name or ""), Text(" → ".join(path)))
    console.print(table)


def register(app: typer.Typer, get_context: Callable[[], CommandContext]) -> None:
    """Add `who`, `deps` and `impact` to the root `tomgraph` app."""

    @app.command("who")
    def who_command(
        entity_id: IdArg, scenario: ScenarioOpt = "current", output: FormatOpt = Format.text, at: AtOpt = None
    ) -> None:
        """Say in words who owns ID, who approves its changes and deployments and who can stop it,
        through which roles and people (`GET /scenarios/{s}/entities/{id}/who`); with --at, as the
        scenario was in force that day.

        Exit status: 0; 1 unknown scenario or id; 2 bad --at."""
        ctx = get_context()
        check_scenario_name(scenario)
        with _reported(ctx):
            day = parse_at(at)
        answer = _read(ctx, lambda db: graph_reads.who(db, scenario, entity_id, day, day))
        if output is Format.json:
            _emit_json(answer)
        else:
            print_who(answer, _stdout_console())

    @app.command("deps")
    def deps_command(
        entity_id: IdArg,
        upstream: Annotated[bool, typer.Option("--upstream", help="What ID depends on (the default).")] = False,
        downstream: Annotated[bool, typer.Option("--downstream", help="What depends on ID.")] = False,
        depth: Annotated[int, typer.Option("--depth", min=1, max=MAX_DEPTH, help="Dependency edges to follow.")] = 1,
        scenario: ScenarioOpt = "current",
        output: FormatOpt = Format.text,
        at: AtOpt = None,
    ) -> None:
        """The entities ID depends on (or, with --downstream, that depend on it), each with its
        distance and the path that reached it (`GET .../entities/{id}/dependencies`); with --at,
        as the scenario was in force that day.

        Exit status: 0; 1 unknown scenario or id; 2 both --upstream and --downstream, or bad --at."""
        ctx = get_context()
        if upstream and downstream:
            raise typer.BadParameter("give --upstream or --downstream, not both")
        check_scenario_name(scenario)
        with _reported(ctx):
            day = parse_at(at)
        direction: graph_reads.Direction = "downstream" if downstream else "upstream"
        answer: DependencyPage = _read(
            ctx, lambda db: graph_reads.dependencies(db, scenario, entity_id, direction, depth, ALL, None, day)
        )
        if output is Format.json:
            _emit_json(answer)
            return
        console = _stdout_console()
        what = "depends on" if direction == "upstream" else "is depended on by"
        title = f"{entity_id} {what} {answer.total} entit{'y' if answer.total == 1 else 'ies'} (depth {depth})"
        print_hits(title, [(h.kind, h.id, h.name, h.distance, h.path) for h in answer.items], console)

    @app.command("impact")
    def impact_command(
        entity_id: IdArg, scenario: ScenarioOpt = "current", output: FormatOpt = Format.text, at: AtOpt = None
    ) -> None:
        """What breaks if ID fails: everything downstream of it, grouped by kind
        (`GET /scenarios/{s}/impact/{id}`); with --at, as the scenario was in force that day.

        Exit status: 0; 1 unknown scenario or id; 2 bad --at."""
        ctx = get_context()
        check_scenario_name(scenario)
        with _reported(ctx):
            day = parse_at(at)
        answer: ImpactPage = _read(ctx, lambda db: graph_reads.impact(db, scenario, entity_id, ALL, None, day))
        if output is Format.json:
            _emit_json(answer)
            return
        console = _stdout_console()
        counts = ", ".join(f"{c.count} {c.kind}" for c in answer.counts) or "nothing"
        name = answer.name or entity_id
        console.print(Text(f"If {name} ({entity_id}) fails, {answer.total} entities are affected: {counts}."))
        for kind, hits in sorted(answer.by_kind.items()):
            print_hits(kind, [(h.kind, h.id, h.name, h.distance, h.path) for h in hits], console)
