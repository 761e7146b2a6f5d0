"""`tomgraph view`: write an interactive, offline graph page of a scenario (visualizations.view)."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cli.checks_cmd import AtOpt, CommandContext, CommandError, _parse_day, parse_at
from cli.console import console
from graph.errors import NotFound
from graph.history import HistoryError
from graph.sync import ScenarioNameError, check_scenario_name
from queries.catalog import CatalogError, load_catalog
from visualizations.view import MAX_DEPTH, fetch_view, org_chart_kinds, render_view

EXIT_FAILURE = 1
EXIT_INVALID_INPUT = 2


class LayoutOption(StrEnum):
    force = "force"
    hierarchy = "hierarchy"


def register(app: typer.Typer, get_context: Callable[[], CommandContext]) -> None:
    @app.command("view")
    def view_command(
        scenario: Annotated[str, typer.Option("--scenario", "-s", help="Scenario name.")] = "current",
        focus: Annotated[str | None, typer.Option("--focus", help="Entity id at the centre of the view.")] = None,
        depth: Annotated[int, typer.Option("--depth", help=f"Hops around --focus (0-{MAX_DEPTH}).")] = 1,
        kinds: Annotated[
            str | None, typer.Option("--kinds", help="Only these kinds, as bundle sections: models,vendors.")
        ] = None,
        layout: Annotated[
            LayoutOption, typer.Option("--layout", help="force, or hierarchy for the org chart (roles by default).")
        ] = LayoutOption.force,
        out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write.")] = Path("view.html"),
        as_of: Annotated[str | None, typer.Option("--as-of", help="Run the gap checks as of YYYY-MM-DD.")] = None,
        node_cap: Annotated[
            int | None, typer.Option("--node-cap", help="Above this many entities, group them by kind.")
        ] = None,
        at: AtOpt = None,
    ) -> None:
        """Write an interactive graph page (one self-contained HTML file that works offline).

        Exit status: 0 written; 2 bad options; 1 unknown scenario or entity, or other failure.
        """
        ctx = get_context()
        err = console(stderr=True)
        try:
            check_scenario_name(scenario)
            day = _parse_day(as_of) if as_of else None
            version_day = parse_at(at)
            cap = node_cap or ctx.settings.view_node_cap
            data = fetch_view(
                ctx.db,
                scenario,
                focus=focus,
                depth=depth,
                kinds=org_chart_kinds(layout.value, focus, kinds),
                as_of=day,
                node_cap=cap,
                catalog=load_catalog(ctx.settings.check_dirs),
                at=version_day,
            )
            api_base = f"http://{ctx.settings.api_host}:{ctx.settings.api_port}"
            html = render_view(data, layout=layout.value, api_base=api_base)
        except (ValueError, ScenarioNameError, CommandError) as exc:
            if ctx.debug:
                raise
            err.print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
            raise typer.Exit(EXIT_INVALID_INPUT) from None
        except (NotFound, CatalogError, HistoryError) as exc:
            if ctx.debug:
                raise
            err.print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
            raise typer.Exit(EXIT_FAILURE) from None
        out.write_text(html, encoding="utf-8")
        shown = f"{data.total:,} entities grouped by kind" if data.grouped else f"{len(data.nodes):,} entities"
        console().print(f"Wrote {out} ({shown}, {len(html) // 1024:,} KiB)", highlight=False, soft_wrap=True)
