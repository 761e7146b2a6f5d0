"""`tomgraph import archimate|backstage|mapped`, `tomgraph export archimate` and
`tomgraph template` (import.md): thin wrappers over the importers/ package."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer
from rich.console import Console

from graph.db import Database
from graph.settings import Settings
from graph.sync import check_scenario_name
from importers.summary import ImportSummary
from loaders import limits_from

out = Console()


class _Context(Protocol):
    settings: Settings

    @property
    def db(self) -> Database: ...


OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Write the bundle here (a single YAML file).")]


def _write(bundle: dict[str, Any], summary: ImportSummary, out_file: Path, command: str) -> None:
    from importers.bundle import dump_bundle

    dump_bundle(
        bundle,
        out_file,
        f"imported by `tomgraph import {command}` from {summary.source}\nreview, then: tomgraph load {out_file}",
    )
    for line in summary.lines():
        out.print(line, highlight=False, markup=False, soft_wrap=True)
    out.print(f"Wrote {out_file}", highlight=False, markup=False, soft_wrap=True)


def register(app: typer.Typer, get_context: Callable[[], _Context]) -> None:
    """Add the `import` and `export` command groups and the `template` command to the app."""
    import_app = typer.Typer(help="Turn another tool's data into a bundle to review and load.", no_args_is_help=True)
    export_app = typer.Typer(help="Write a scenario in another tool's format.", no_args_is_help=True)
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")

    @import_app.command("archimate")
    def import_archimate(
        source: Annotated[
            Path, typer.Argument(help="Open Group exchange file (.xml, 2.1 or 3.x) or Archi .archimate.")
        ],
        out_file: OutOpt,
    ) -> None:
        """Read an ArchiMate model and write a bundle; print what was written and what had no place.

        Exit status: 0 written; 2 the source cannot be read (each problem as PLACE: FIELD: MESSAGE).
        """
        from importers.archimate import import_archimate as run

        bundle, summary = run(source, limits_from(get_context().settings))
        _write(bundle, summary, out_file, "archimate")

    @import_app.command("backstage")
    def import_backstage(
        source: Annotated[Path, typer.Argument(help="A catalog YAML file, or a directory of them.")],
        out_file: OutOpt,
    ) -> None:
        """Read a Backstage catalog and write a bundle; print what was written and what had no place.

        Exit status: 0 written; 2 the source cannot be read (each problem as PLACE: FIELD: MESSAGE).
        """
        from importers.backstage import import_backstage as run

        bundle, summary = run(source, limits_from(get_context().settings))
        _write(bundle, summary, out_file, "backstage")

    @import_app.command("mapped")
    def import_mapped(
        source: Annotated[Path, typer.Argument(help="A .csv or .xlsx table.")],
        mapping: Annotated[Path, typer.Option("--map", "-m", help="The mapping file (YAML, see docs/import.md).")],
        out_file: OutOpt,
    ) -> None:
        """Read a table through a mapping file and write a bundle; print what was written and what had no place.

        Exit status: 0 written; 2 invalid mapping or unreadable table (each problem as PLACE: FIELD: MESSAGE).
        """
        from importers.mapped import import_mapped as run

        bundle, summary = run(source, mapping, limits_from(get_context().settings))
        _write(bundle, summary, out_file, "mapped")

    @export_app.command("archimate")
    def export_archimate(
        out_file: Annotated[Path, typer.Option("--out", "-o", help="The exchange file to write (.xml).")],
        scenario: Annotated[str, typer.Option("--scenario", "-s", help="Scenario name.")] = "current",
    ) -> None:
        """Write scenario S as an Open Group ArchiMate 3.x exchange file (`import archimate` reads it back).

        Exit status: 0 written; 1 the scenario is missing or empty, or another failure.
        """
        from importers.archimate_export import exchange_xml, scenario_bundle

        check_scenario_name(scenario)
        bundle = scenario_bundle(get_context().db, scenario)
        count = sum(len(v) for v in bundle.values() if isinstance(v, list))
        if count == 0:
            raise RuntimeError(f"scenario {scenario!r} is empty or does not exist")
        out_file.write_bytes(exchange_xml(bundle, f"tomgraph scenario {scenario}"))
        out.print(
            f"Wrote {out_file}: {count} entities of scenario '{scenario}'",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )

    @app.command("template")
    def template(
        out_file: Annotated[Path, typer.Option("--out", "-o", help="The workbook to write (.xlsx).")],
    ) -> None:
        """Write an Excel template: a sheet per section with drop-downs, and a README sheet."""
        from importers.template import build_template

        if out_file.suffix.lower() != ".xlsx":
            raise typer.BadParameter("the template is an .xlsx workbook", param_hint="--out")
        build_template(out_file)
        out.print(
            f"Wrote {out_file}; fill it in, then: tomgraph load {out_file}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
