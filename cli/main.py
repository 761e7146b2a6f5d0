"""`tomgraph`: the command line. Commands parse input, call the same functions as the API, and
format output; errors are one readable line on stderr (a traceback only with --debug)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from neo4j.exceptions import ConfigurationError
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli import (
    checks_cmd,
    coverage_cmd,
    diff_cmd,
    entity_cmd,
    events_cmd,
    history_cmd,
    import_cmd,
    keys_cmd,
    maturity_cmd,
    report_cmd,
    synth_cmd,
    view_cmd,
)
from cli.console import console
from events.store import load_events
from graph import local_neo4j
from graph.days import DayError, parse_day
from graph.db import Database, DatabaseUnavailable
from graph.docs import render_graph_model
from graph.errors import NotFound
from graph.history import policy_from
from graph.ontology import SEVERITIES
from graph.schema import apply_schema
from graph.settings import Settings, SettingsError
from graph.sync import ScenarioNameError, SyncResult, check_scenario_name
from loaders import BundleError, limits_from, load_bundle, read_bundle
from queries.catalog import load_catalog
from queries.diff import diff_scenarios
from queries.runner import run_checks
from visualizations.pdf import chromium_path
from visualizations.report import build_report, write_report
from visualizations.view import view_html

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_BUNDLE = REPO_ROOT / "examples" / "insurer"
EXAMPLE_TARGET = REPO_ROOT / "examples" / "insurer-target"
EXAMPLE_EVENTS = REPO_ROOT / "examples" / "insurer-events.csv"
DEMO_EFFECTIVE = dt.date(2026, 1, 1)
"""The day from which `tomgraph demo` says the example operating models are in force."""
DEMO_FOCUS = "m-uw-risk-score"
DEMO_OUT = Path("out")

EXIT_FAILURE = 1
EXIT_INVALID_BUNDLE = 2

out = console()
err = console(stderr=True)

app = typer.Typer(
    name="tomgraph",
    help="An organisation's AI target operating model as a queryable Neo4j knowledge graph.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
neo4j_app = typer.Typer(help="Manage the local Neo4j used when NEO4J_URI is not set.", no_args_is_help=True)
app.add_typer(neo4j_app, name="neo4j")
synth_cmd.register(app)


@dataclass
class AppContext:
    """What every command needs: the settings, and a database opened on first use."""

    settings: Settings
    debug: bool = False
    _db: Database | None = field(default=None, repr=False)

    @property
    def db(self) -> Database:
        if self._db is None:
            try:
                database = Database.from_settings(self.settings)
            except ConfigurationError as e:  # what Settings' own checks of NEO4J_URI let through
                err.print(f"error: NEO4J_URI: {e}", highlight=False, markup=False, soft_wrap=True)
                raise typer.Exit(2) from None
            try:
                database.verify()
                apply_schema(database)
            except BaseException:
                database.close()
                raise
            self._db = database
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


_context: AppContext | None = None


def get_context() -> AppContext:
    """The one context of this run; bad settings end the run with one line each naming the
    environment variable, exit 2."""
    global _context
    if _context is None:
        try:
            settings = Settings.from_env()
        except SettingsError as e:
            for problem in e.problems:
                err.print(f"error: {problem}", highlight=False, markup=False, soft_wrap=True)
            raise typer.Exit(2) from None
        _context = AppContext(settings)
    return _context


checks_cmd.register(app, get_context)
coverage_cmd.register(app, get_context)
report_cmd.register(app, get_context)
diff_cmd.register(app, get_context)
view_cmd.register(app, get_context)
keys_cmd.register(app, get_context)
entity_cmd.register(app, get_context)
import_cmd.register(app, get_context)
events_cmd.register(app, get_context)
maturity_cmd.register(app, get_context)
maturity_cmd.register_plan(app, get_context)
history_cmd.register(app, get_context)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    get_context().debug = debug


ScenarioOpt = Annotated[str, typer.Option("--scenario", "-s", help="Scenario name.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary table.")]


def _print_summary(path: str, result: SyncResult, *, quiet: bool) -> None:
    created = sum(c.created for c in result.entities.values())
    updated = sum(c.updated for c in result.entities.values())
    removed = sum(c.removed for c in result.entities.values())
    rels_created = sum(c.created for c in result.relationships.values())
    rels_removed = sum(c.removed for c in result.relationships.values())
    line = (
        f"Loaded {path} into scenario '{result.scenario}' in {result.seconds:.1f} s: "
        f"{result.entity_count} entities ({created} created, {updated} updated, {removed} removed), "
        f"{result.relationship_count} relationships ({rels_created} created, {rels_removed} removed)"
    )
    out.print(line, highlight=False, soft_wrap=True)
    if quiet or not result.changed:
        return
    table = Table(title="Changes", show_edge=False)
    for column in ("", "created", "updated", "removed"):
        table.add_column(column, justify="right" if column else "left")
    for name, changes in sorted(result.entities.items()):
        if changes.total:
            table.add_row(name, str(changes.created), str(changes.updated), str(changes.removed))
    for name, changes in sorted(result.relationships.items()):
        if changes.total:
            table.add_row(f"[{name}]", str(changes.created), "", str(changes.removed))
    out.print(table)


@app.command()
def load(
    path: Annotated[Path, typer.Argument(help="Bundle: a YAML/JSON file, a directory of section files, or .xlsx.")],
    scenario: ScenarioOpt = "current",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only; write nothing.")] = False,
    quiet: QuietOpt = False,
    effective: Annotated[
        str | None,
        typer.Option(
            "--effective", metavar="YYYY-MM-DD", help="The day this version comes into force (default: today)."
        ),
    ] = None,
) -> None:
    """Validate the bundle at PATH and make scenario S equal to it (all or nothing).

    The load becomes a new version of S, in force from --effective; earlier versions are kept
    (`tomgraph history`). A bundle equal to the latest version adds nothing.

    Exit status: 0 loaded (or valid, with --dry-run); 2 invalid bundle, every problem listed as
    PLACE: FIELD: MESSAGE, database unchanged; 1 any other failure, database unchanged.
    """
    ctx = get_context()
    check_scenario_name(scenario)
    try:
        effective_day = parse_day(effective) if effective else None
    except DayError as e:
        err.print(f"error: --effective: {e}", highlight=False, markup=False)
        raise typer.Exit(2) from None
    limits = limits_from(ctx.settings)
    if dry_run:
        bundle = read_bundle(path, limits)
        out.print(f"{path}: valid bundle, {bundle.count()} entities", highlight=False)
        return
    show_progress = not quiet and err.is_terminal
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} batches"),
        TimeElapsedColumn(),
        console=err,
        disable=not show_progress,
        transient=True,
    ) as bar:
        task = bar.add_task(f"loading into {scenario}", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = load_bundle(
            ctx.db,
            path,
            scenario,
            limits=limits,
            progress=progress,
            effective=effective_day,
            history=policy_from(ctx.settings),
        )
    _print_summary(str(path), result, quiet=quiet or not out.is_terminal)


@app.command("graph-model")
def graph_model(
    out_file: Annotated[Path | None, typer.Option("--out", help="Write here instead of standard output.")] = None,
) -> None:
    """Print the graph model (labels, properties, relationship types) derived from the ontology."""
    text = render_graph_model()
    if out_file is None:
        sys.stdout.write(text)
    else:
        out_file.write_text(text)


@neo4j_app.command("install")
def neo4j_install() -> None:
    """Fetch Neo4j from Maven Central and build the launcher (once; later runs return at once)."""
    settings = get_context().settings
    runtime = local_neo4j.install(settings, quiet=True)
    out.print(f"local Neo4j {local_neo4j.NEO4J_VERSION} installed in {runtime}", highlight=False)


@neo4j_app.command("start")
def neo4j_start() -> None:
    """Start the local Neo4j (fetching it with Maven the first time) and wait until Bolt answers."""
    settings = get_context().settings
    _refuse_when_external(settings)
    status = local_neo4j.start(settings)
    out.print(f"local Neo4j running (pid {status.pid}) at {status.uri}, data in {status.data_dir}", highlight=False)


@neo4j_app.command("stop")
def neo4j_stop() -> None:
    """Stop the local Neo4j cleanly (and the API that `tomgraph demo` started on it)."""
    settings = get_context().settings
    if _stop_demo_api(settings):
        out.print("demo API stopped")
    if local_neo4j.stop(settings):
        out.print("local Neo4j stopped")
    else:
        out.print("local Neo4j was not running")


@neo4j_app.command("status")
def neo4j_status() -> None:
    """Say whether the local Neo4j runs, with its URI and data directory."""
    settings = get_context().settings
    status = local_neo4j.status(settings)
    state = f"running (pid {status.pid})" if status.running else "stopped"
    out.print(f"local Neo4j {state} at {status.uri}, data in {status.data_dir}", highlight=False)
    if settings.neo4j_uri:
        out.print(f"note: NEO4J_URI is set, so tomgraph uses {settings.neo4j_uri} instead", highlight=False)


def _refuse_when_external(settings: Settings) -> None:
    if settings.neo4j_uri:
        raise typer.BadParameter(f"NEO4J_URI is set ({settings.neo4j_uri}); the local Neo4j is not used")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: TOMGRAPH_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port (default: TOMGRAPH_API_PORT).")] = None,
) -> None:
    """Run the REST API."""
    from api.app import serve as serve_api
    from api.auth import RefuseToServe, check_can_serve

    settings = get_context().settings
    host = host or settings.api_host
    port = port or settings.api_port
    try:
        check_can_serve(settings, host)
    except RefuseToServe as e:
        raise typer.BadParameter(str(e)) from e
    if settings.uses_local_neo4j:
        local_neo4j.start(settings, quiet=True)
    else:
        try:  # a driver connects on first use: this only checks that it accepts NEO4J_URI
            Database.from_settings(settings, start_local=False).close()
        except ConfigurationError as e:
            err.print(f"error: NEO4J_URI: {e}", highlight=False, markup=False, soft_wrap=True)
            raise typer.Exit(2) from None
    err.print(f"tomgraph API on http://{host}:{port} (interactive docs at /docs)", highlight=False)
    serve_api(settings, host, port)


def _api_pid_file(settings: Settings) -> Path:
    return settings.data_dir / "demo-api.pid"


def _stop_demo_api(settings: Settings) -> bool:
    pid_file = _api_pid_file(settings)
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return False
    pid_file.unlink(missing_ok=True)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return True


def _start_demo_api(settings: Settings) -> str:
    import httpx

    url = f"http://{settings.api_host}:{settings.api_port}"
    _stop_demo_api(settings)
    log = settings.data_dir / "demo-api.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    _api_pid_file(settings).write_text(str(process.pid))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API exited while starting; see {log}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the API did not become ready within 30 s; see {log}")


@app.command()
def demo() -> None:
    """Start everything on the bundled insurer example and print where to look."""
    ctx = get_context()
    settings = ctx.settings
    if settings.uses_local_neo4j:
        status = local_neo4j.start(settings)
        out.print(f"local Neo4j at {status.uri} (data in {status.data_dir})", highlight=False)
    else:
        out.print(f"Neo4j at {settings.neo4j_uri}", highlight=False)
    db = ctx.db
    catalog = load_catalog(settings.check_dirs)
    today = dt.date.today()
    for bundle, scenario in ((EXAMPLE_BUNDLE, "current"), (EXAMPLE_TARGET, "target")):
        # In force since DEMO_EFFECTIVE, so that `check --at` a day of 2026 and the example event
        # log's quarter read this version (a re-run of the demo adds no version).
        result = load_bundle(db, bundle, scenario, limits=limits_from(settings), effective=DEMO_EFFECTIVE)
        _print_summary(str(bundle.relative_to(REPO_ROOT)), result, quiet=True)
        if scenario == "current":
            events = load_events(db, EXAMPLE_EVENTS, scenario)
            out.print(
                f"Loaded {EXAMPLE_EVENTS.relative_to(REPO_ROOT)} into scenario '{scenario}': {events.read} events "
                f"({events.added} new); metrics: tomgraph events stats",
                highlight=False,
            )
        findings = run_checks(db, catalog, scenario, today)["findings"]
        by_severity = Counter(f["severity"] for f in findings)
        counts = ", ".join(f"{by_severity[s]} {s}" for s in SEVERITIES if by_severity[s])
        out.print(
            f"  gap checks on '{scenario}': {len(findings)} findings ({counts or 'none'}); "
            f"details: tomgraph check --scenario {scenario}",
            highlight=False,
        )
    DEMO_OUT.mkdir(exist_ok=True)
    view_file = DEMO_OUT / "view-insurer.html"
    view_file.write_text(view_html(db, "current", focus=DEMO_FOCUS, depth=2, catalog=catalog))
    # summary.pdf needs Chromium; the demo goes on without it
    has_chromium = Path(chromium_path()).is_file()
    report_files = write_report(build_report(db, catalog, "current", today), DEMO_OUT / "report", pdf=has_chromium)
    changes = diff_scenarios(db, catalog, "current", "target", today)["counts"]
    ctx.close()
    url = _start_demo_api(settings)
    out.print(
        f"\nGraph view:    {view_file}  (open it in a browser; it needs no network)\n"
        f"Gap report:    {report_files['report.html']}\n"
        f"Target vs current: fixes {changes['findings']['fixed']} findings, introduces "
        f"{changes['findings']['introduced']}, moves {changes['moves']} decision rights "
        "(tomgraph diff current target)\n"
        f"\nThe tomgraph API is running at {url}  (interactive docs: {url}/docs, readiness: {url}/readyz)\n"
        f"  {url}/  (the explorer: catalog, entity pages, graph, findings)\n"
        f"  {url}/ui/scenarios/current/entities/{DEMO_FOCUS}\n"
        f"  {url}/scenarios/current/reports/latest\n"
        f"  {url}/ui/diff/current/target  (target vs current)\n"
        "Stop it and the local Neo4j with: tomgraph neo4j stop",
        highlight=False,
    )


def main() -> None:
    ctx_debug = "--debug" in sys.argv
    code = 0
    try:
        app()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else EXIT_FAILURE)
    except BundleError as e:
        err.print(e.summary(), highlight=False, soft_wrap=True)
        for problem in e.problems:
            err.print(str(problem), highlight=False, markup=False, soft_wrap=True)
        if e.omitted_line():
            err.print(e.omitted_line(), highlight=False, markup=False, soft_wrap=True)
        code = EXIT_INVALID_BUNDLE
    # NotFound: a command that lets it through (no such scenario, no version in force on the day
    # asked) gets the same line as the commands that report it themselves (checks_cmd._reported).
    except (DatabaseUnavailable, local_neo4j.LocalNeo4jError, ScenarioNameError, NotFound, OSError, RuntimeError) as e:
        if ctx_debug:
            raise
        err.print(f"error: {e}", highlight=False, markup=False, soft_wrap=True)
        code = EXIT_FAILURE
    finally:
        if _context is not None:
            _context.close()
    sys.exit(code)


if __name__ == "__main__":
    main()
