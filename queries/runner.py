"""Running gap checks against one scenario, as of one date.

A run of several checks reads the scenario through `graph.consistent.consistent_view`: one read
transaction on one version of the scenario (the one in force on the date asked, default today),
with `$scenario` bound to the name that version is stored under, so every check (and the
waivers) sees the same version even while loads commit. That transaction is always rolled back,
and a check from a custom directory must also be read-only by Neo4j's own EXPLAIN before it runs.

The checks of a run are independent, and Neo4j runs each query on one core: a run reads
`CHECK_PARALLEL_READS` checks side by side, each in a read transaction of its own pinned to the
same version (`graph.consistent.pinned_view`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import TYPE_CHECKING

from neo4j import READ_ACCESS, ManagedTransaction, NotificationMinimumSeverity
from neo4j.exceptions import Neo4jError

from graph.consistent import ScenarioView, consistent_view, pinned_view
from graph.db import Database
from graph.history import resolve_in
from queries.catalog import BUILTIN_CHECK_DIR, SEVERITY_RANK, Catalog, Check
from queries.findings import Finding, RunResult, finding_identity, sort_findings
from queries.postprocess import RowShapeError, raw_findings
from queries.waivers import UnknownScenarioError, apply_waivers, read_waivers

if TYPE_CHECKING:
    from queries.coverage import CoverageResult
    from queries.frameworks import Framework, Frameworks


CHECK_PARALLEL_READS = 2
"""Checks a run reads at once (two Neo4j queries, one core each, on the 2-core machines
tomgraph is measured on; docs/benchmarks.md)."""


class CheckRunError(Exception):
    """A check failed in Neo4j or returned rows of the wrong shape; the message names its file."""

    def __init__(self, check: Check, reason: str) -> None:
        super().__init__(f"check {check.id} ({check.source}): {reason}")
        self.check = check


def run_check(
    db: Database | ScenarioView, check: Check, scenario: str, as_of: date, since: date | None = None
) -> list[Finding]:
    """One check's findings (no waivers applied), unsorted, one per (check, set of subjects).

    With a view, `scenario` is what `$scenario` is bound to (the view's `physical`). With a
    `Database`, a scenario's name is bound to the physical name of its version in force today
    (graph/history.py), so 1.0 callers that pass the name keep working; any other name (a
    physical name) is bound as given.

    An event-log check (``events: true``) judges the events before the end of the as-of day, from
    `since` on (None: all), each against the version of the scenario in force at its time
    (``events.conformance``; with a view, the view's scenario); other checks ignore `since`.
    """
    if check.spec.events:
        from events.conformance import run_event_check

        logical = db.scenario if isinstance(db, ScenarioView) else scenario
        return run_event_check(db, check, logical, as_of, since)
    if not isinstance(db, ScenarioView):
        scenario = _bound(db, scenario)
    return check_findings(db, check, {**check.spec.parameters, "scenario": scenario, "as_of": as_of})


def check_findings(db: Database | ScenarioView, check: Check, params: dict[str, object]) -> list[Finding]:
    """The findings of one run of `check`'s Cypher with `params` (its own and the always-passed
    ones), unsorted, one per (check, set of subjects)."""
    try:
        if isinstance(db, ScenarioView):
            if check.source.parent != BUILTIN_CHECK_DIR and db.query_type(check.spec.cypher, params) != "r":
                raise CheckRunError(check, "a check must be a read-only query; Neo4j's EXPLAIN says this one writes")
            rows = db.read(check.spec.cypher, params)
        else:
            rows = _read(db, check.spec.cypher, params)
    except Neo4jError as exc:
        raise CheckRunError(check, exc.message or str(exc)) from exc
    try:
        raw = raw_findings(rows, check)
    except RowShapeError as exc:
        raise CheckRunError(check, str(exc)) from exc
    findings: dict[tuple[str, frozenset[str]], Finding] = {}
    for item in raw:
        severity: str = check.spec.severity
        if item.severity is not None and SEVERITY_RANK[item.severity] < SEVERITY_RANK[severity]:
            severity = item.severity
        finding: Finding = {
            "check": check.id,
            "severity": severity,
            "subjects": item.subjects,
            "accountable": item.accountable,
            "message": item.message,
            "remediation": check.spec.remediation,
        }
        if item.details is not None:
            finding["details"] = item.details
        findings.setdefault(finding_identity(check.id, item.subjects), finding)
    return list(findings.values())


def _findings_of(
    view: ScenarioView, checks: Sequence[Check], as_of: date, since: date | None, workers: int
) -> list[Finding]:
    """The findings of `checks` on `view`, in the order of `checks`; with ``workers`` > 1 (and a
    view that knows its database), that many checks at a time, each in a read transaction of its
    own on the same version. The event-log checks, which read the whole log, are started first so
    that the shorter ones fill in beside them. The first check that fails raises its error."""
    if workers <= 1 or view.database is None or len(checks) <= 1:
        return [finding for check in checks for finding in run_check(view, check, view.physical, as_of, since)]
    database = view.database

    def one(check: Check) -> list[Finding]:
        with pinned_view(database, view) as pinned:
            return run_check(pinned, check, view.physical, as_of, since)

    started = sorted(range(len(checks)), key=lambda i: not checks[i].spec.events)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {i: pool.submit(one, checks[i]) for i in started}
        return [finding for i in range(len(checks)) for finding in futures[i].result()]


def _bound(db: Database, scenario: str) -> str:
    with db.errors(), db.session(default_access_mode=READ_ACCESS) as session:
        found = session.execute_read(lambda tx: resolve_in(tx, scenario, None))
    return found.physical if found.found and found.physical else scenario


def _read(db: Database, cypher: str, params: dict[str, object]) -> list[dict[str, object]]:
    """Rows of one query in a read transaction (so a custom check cannot write).

    Server notifications are off: "property key does not exist" is normal for optional fields
    no entity of the scenario sets, and would otherwise be logged as a warning on every run.
    """

    def work(tx: ManagedTransaction) -> list[dict[str, object]]:
        return tx.run(cypher, params).data()

    with db.errors(), db.session(notifications_min_severity=NotificationMinimumSeverity.OFF) as session:
        return session.execute_read(work)


def run_checks(
    db: Database,
    catalog: Catalog,
    scenario: str,
    as_of: date,
    only: Iterable[str] | None = None,
    frameworks: Sequence[str] | None = None,
    registry: Frameworks | None = None,
    since: date | None = None,
    *,
    at: date | None = None,
) -> RunResult:
    """All checks (or those in ``only``) on ``scenario`` as in force on ``at`` (default today)
    as of ``as_of``, waivers applied, sorted. ``since``: the event-log checks judge only the
    events from that day on (events.md).

    ``frameworks``: ids of the frameworks in force (``check --framework``); None means the bundle's
    ``meta.frameworks`` (obligations.md; none without meta, so catalog v1 results do not change).
    Each unsatisfied obligation of a framework in force is an ``obligation-unmet`` finding.
    """
    with consistent_view(db, scenario, at) as view:
        return run_checks_in(view, catalog, as_of, only, frameworks, registry, since=since)


def run_checks_in(
    view: ScenarioView,
    catalog: Catalog,
    as_of: date,
    only: Iterable[str] | None = None,
    frameworks: Sequence[str] | None = None,
    registry: Frameworks | None = None,
    coverage: CoverageResult | None = None,
    since: date | None = None,
    workers: int = CHECK_PARALLEL_READS,
) -> RunResult:
    """`run_checks` inside a view the caller holds (to read more of the same version after it).

    ``workers``: how many checks are read at once (1: one after another, in ``view`` itself).

    ``coverage``: the coverage of the frameworks in force, already evaluated in this view and as of
    ``as_of`` (:func:`coverage_in_force`); its unmet obligations become the ``obligation-unmet``
    findings instead of evaluating the frameworks again (the weekly report shows that coverage too).
    """
    from queries.coverage import OBLIGATION_UNMET, unmet_findings

    wanted = None if only is None else list(only)
    checks = catalog.select(None if wanted is None else [i for i in wanted if i != OBLIGATION_UNMET])
    scenario = view.scenario
    if not view.found:
        raise UnknownScenarioError(f"scenario '{scenario}' has not been loaded")
    findings = _findings_of(view, checks, as_of, since, workers)
    known = {c.id for c in checks}
    if wanted is None or OBLIGATION_UNMET in wanted:
        known.add(OBLIGATION_UNMET)
        if coverage is None:
            in_force = coverage_in_force(view, catalog, as_of, frameworks, registry)
            coverage = in_force[1] if in_force is not None else None
        if coverage is not None:
            findings.extend(unmet_findings(view, coverage))
    findings, expired = apply_waivers(findings, read_waivers(view, scenario), as_of, known)
    result_: RunResult = {"scenario": scenario, "as_of": as_of.isoformat(), "findings": sort_findings(findings)}
    if expired:
        result_["expired_waivers"] = expired
    return result_


def coverage_in_force(
    view: ScenarioView,
    catalog: Catalog,
    as_of: date,
    frameworks: Sequence[str] | None = None,
    registry: Frameworks | None = None,
) -> tuple[list[Framework], CoverageResult] | None:
    """The frameworks in force on the scenario of ``view`` and their coverage as of ``as_of``
    (obligations.md "Coverage"), or None when none is in force.

    ``frameworks``: ids named by the caller (``check --framework``); None means the bundle's
    ``meta.frameworks``, of which ids tomgraph does not know (e.g. dora) are left out.
    ``registry``: the frameworks to pick from (default: the shipped ones and TOMGRAPH_FRAMEWORK_DIRS).
    """
    from queries.coverage import coverage_in, frameworks_in_force
    from queries.frameworks import load_frameworks

    named = frameworks_in_force(view) if frameworks is None else list(frameworks)
    if not named:
        return None
    if registry is None:
        from graph.settings import Settings

        registry = load_frameworks(Settings().framework_dirs)
    # A bundle may name frameworks tomgraph does not know (e.g. dora): those have no obligations here.
    in_force = named if frameworks is not None else [i for i in named if i in registry.ids()]
    if not in_force:
        return None
    selected = registry.select(in_force)
    return list(selected), coverage_in(view, selected, catalog, as_of)
