"""History (issue 16): every load is a version, each readable as it was in force on a date; older
versions are kept as deltas and rebuilt on first read; retention; kills; concurrent loads and
reads; every read path in READ transactions. Against a real Neo4j."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from graph.consistent import consistent_view
from graph.db import Database
from graph.dump import dump_scenario
from graph.errors import NotFound
from graph.history import (
    HistoryError,
    HistoryPolicy,
    NoVersionAt,
    ids_in_any_version,
    latest_physical,
    physical_name,
    storage,
    versions,
    versions_in_window,
)
from graph.sync import delete_scenario, leftovers
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.coverage import coverage_in
from queries.diff import diff_scenarios
from queries.frameworks import load_frameworks
from queries.maturity.catalog import load_criteria
from queries.maturity.scorecard import scorecard
from queries.plan import transition_plan
from queries.runner import run_checks
from tests.bundles import SMALL_BUNDLE, write_yaml
from tests.children import LoaderChild
from tests.readonly import ReadOnly
from visualizations.report import build_report, stored_report
from visualizations.view import fetch_view

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]
CURRENT, TARGET = REPO / "examples" / "insurer", REPO / "examples" / "insurer-target"
DAYS = (date(2026, 1, 5), date(2026, 2, 2), date(2026, 3, 2))
AS_OF = date(2026, 3, 9)
NOW = HistoryPolicy(grace_s=0)
"""Superseded copies deleted at once (readers in these tests are not concurrent with that)."""


@pytest.fixture
def bundles(tmp_path: Path) -> list[Path]:
    return [CURRENT, TARGET, write_yaml(SMALL_BUNDLE, tmp_path / "small.yaml")]


@pytest.fixture
def refs(db: Database, scenario: str, bundles: list[Path]) -> Iterator[list[dict[str, Any]]]:
    """What each bundle looks like loaded on its own (dumps of scenarios of their own)."""
    names = [f"{scenario}-r{i}" for i in range(len(bundles))]
    for name, path in zip(names, bundles, strict=True):
        load_bundle(db, path, name)
    yield [dump_scenario(db, name) for name in names]
    for name in names:
        delete_scenario(db, name)


def _load_series(db: Database, scenario: str, bundles: list[Path], policy: HistoryPolicy = NOW) -> None:
    for path, day in zip(bundles, DAYS, strict=True):
        load_bundle(db, path, scenario, effective=day, history=policy)


def test_reads_at_each_date_see_the_version_in_force_that_day(
    db: Database, scenario: str, bundles: list[Path], refs: list[dict[str, Any]]
) -> None:
    _load_series(db, scenario, bundles)
    one_day = timedelta(days=1)
    for day, expected in (
        (DAYS[0], 0),
        (DAYS[1] - one_day, 0),
        (DAYS[1], 1),
        (DAYS[2] - one_day, 1),
        (DAYS[2], 2),
        (None, 2),
        (date(2099, 1, 1), 2),
    ):
        assert dump_scenario(db, scenario, day) == refs[expected], day
    with pytest.raises(NoVersionAt) as before_any:
        dump_scenario(db, scenario, DAYS[0] - one_day)
    assert str(before_any.value) == (
        f"scenario '{scenario}' had no version in force on 2026-01-04 (see `tomgraph history`)"
    )
    found = versions(db, scenario)
    assert [(v.seq, v.effective, v.entity_count) for v in found] == [
        (1, DAYS[0], len(refs[0]["nodes"])),
        (2, DAYS[1], len(refs[1]["nodes"])),
        (3, DAYS[2], len(refs[2]["nodes"])),
    ]
    # The latest is a copy; the two older ones were rebuilt by the reads above and are cached.
    assert [v.stored for v in found] == ["cached", "cached", "copy"]


def test_a_later_load_with_an_earlier_date_is_in_force_from_that_date(
    db: Database, scenario: str, bundles: list[Path], refs: list[dict[str, Any]]
) -> None:
    load_bundle(db, bundles[0], scenario, effective=DAYS[2], history=NOW)
    load_bundle(db, bundles[1], scenario, effective=DAYS[0], history=NOW)  # back-dated
    assert dump_scenario(db, scenario, DAYS[1]) == refs[1]
    assert dump_scenario(db, scenario, DAYS[2]) == refs[0]  # the later effective date wins
    assert dump_scenario(db, scenario) == refs[0]


def test_storage_grows_with_what_changed_and_an_unchanged_reload_adds_nothing(
    db: Database, scenario: str, bundles: list[Path], refs: list[dict[str, Any]]
) -> None:
    _load_series(db, scenario, bundles)
    kept = storage(db, scenario)
    latest = refs[2]
    # One copy (the latest); the two older versions are deltas, not copies.
    assert (kept["entities"], kept["relationships"], kept["copies"]) == (
        len(latest["nodes"]),
        len(latest["relationships"]),
        1,
    )
    assert kept["delta_parts"] > 0
    again = load_bundle(db, bundles[2], scenario, effective=date(2026, 4, 6), history=NOW)
    assert not again.changed
    assert storage(db, scenario) == kept
    assert [v.seq for v in versions(db, scenario)] == [1, 2, 3]


def test_the_diff_between_two_versions_equals_the_diff_between_the_bundles(
    db: Database, scenario: str, bundles: list[Path], refs: list[dict[str, Any]]
) -> None:
    _load_series(db, scenario, bundles)
    catalog = load_catalog()
    between_versions = diff_scenarios(db, catalog, scenario, scenario, AS_OF, at_a=DAYS[0], at_b=DAYS[1])
    between_bundles = diff_scenarios(db, catalog, f"{scenario}-r0", f"{scenario}-r1", AS_OF)
    assert (between_versions["a"], between_versions["b"]) == (f"{scenario}@2026-01-05", f"{scenario}@2026-02-02")
    for result in (between_versions, between_bundles):
        del result["a"], result["b"]
    assert between_versions == between_bundles
    assert between_versions["counts"]["entities"]["added"] > 0


def test_retention_removes_only_versions_no_longer_in_force_in_the_window(
    db: Database, scenario: str, bundles: list[Path], refs: list[dict[str, Any]]
) -> None:
    today = date.today()
    days = (today - timedelta(days=100), today - timedelta(days=50), today - timedelta(days=10))
    keep_30 = HistoryPolicy(keep_days=30, grace_s=0)
    for path, day in zip(bundles, days, strict=True):
        load_bundle(db, path, scenario, effective=day, history=keep_30)
    # In force 30 days ago: version 2 (from day -50). Version 1 ended before the window.
    assert [v.seq for v in versions(db, scenario)] == [2, 3]
    with pytest.raises(NoVersionAt):
        dump_scenario(db, scenario, today - timedelta(days=60))
    assert dump_scenario(db, scenario, today - timedelta(days=40)) == refs[1]
    assert dump_scenario(db, scenario) == refs[2]
    # Keeping every day again removes nothing more.
    load_bundle(db, bundles[0], scenario, history=HistoryPolicy(grace_s=0))
    assert [v.seq for v in versions(db, scenario)] == [2, 3, 4]
    assert dump_scenario(db, scenario, today - timedelta(days=40)) == refs[1]


def test_rebuilt_versions_are_cached_up_to_the_cache_size_oldest_rebuilt_evicted(
    db: Database, scenario: str, bundles: list[Path], refs: list[dict[str, Any]]
) -> None:
    one = HistoryPolicy(grace_s=0, cache_size=1)
    _load_series(db, scenario, bundles, one)
    assert [v.stored for v in versions(db, scenario)] == ["delta", "delta", "copy"]
    with consistent_view(db, scenario, DAYS[0], policy=one) as view:
        first = view.physical
    assert [v.stored for v in versions(db, scenario)] == ["cached", "delta", "copy"]
    with consistent_view(db, scenario, DAYS[0], policy=one) as view:
        assert view.physical == first  # a later read uses the cached copy
    assert dump_scenario(db, scenario, DAYS[1]) == refs[1]  # default policy: cache of 2 ...
    with consistent_view(db, scenario, DAYS[1], policy=one):
        pass
    load_bundle(db, bundles[2], scenario, history=one)  # ... and this load applies a cache of 1
    stored = [v.stored for v in versions(db, scenario)]
    assert stored.count("cached") == 1 and stored[2] == "copy"
    assert storage(db, scenario)["copies"] == 2
    assert dump_scenario(db, scenario, DAYS[0]) == refs[0]


def test_every_read_path_runs_in_read_transactions(
    db: Database, scenario: str, bundles: list[Path], refs: list[dict[str, Any]]
) -> None:
    _load_series(db, scenario, bundles)
    dump_scenario(db, scenario, DAYS[0])  # rebuilt once, by a user who may write
    build_report(db, load_catalog(), scenario, AS_OF)
    reader = ReadOnly(db)
    catalog = load_catalog()
    assert dump_scenario(reader, scenario) == refs[2]
    assert dump_scenario(reader, scenario, DAYS[0]) == refs[0]
    assert run_checks(reader, catalog, scenario, AS_OF) == run_checks(db, catalog, scenario, AS_OF)
    assert run_checks(reader, catalog, scenario, AS_OF, at=DAYS[0])["findings"]
    assert fetch_view(reader, scenario, as_of=AS_OF, catalog=catalog).total == len(refs[2]["nodes"])
    assert fetch_view(reader, scenario, focus="r-ceo", depth=2, catalog=catalog, at=DAYS[0]).nodes
    diff = diff_scenarios(reader, catalog, scenario, scenario, AS_OF, at_a=DAYS[0])
    assert diff["counts"]["entities"]["removed"] > 0
    assert stored_report(reader, catalog, scenario, None)["as_of"] == AS_OF.isoformat()
    assert [v.seq for v in versions(reader, scenario)] == [1, 2, 3]
    assert physical_name(reader, scenario, DAYS[0]) != physical_name(reader, scenario)
    criteria = load_criteria(known_checks=catalog.ids())
    for at in (None, DAYS[0]):
        assert scorecard(reader, catalog, criteria, scenario, AS_OF, by_unit=True, at=at)["scopes"]
        with consistent_view(reader, scenario, at) as view:
            covered = coverage_in(view, load_frameworks().select(None), catalog, AS_OF)
        assert [f["framework"] for f in covered["frameworks"]]
    plan = transition_plan(reader, catalog, scenario, scenario, AS_OF, at_a=DAYS[0])
    assert plan["counts"] == transition_plan(db, catalog, scenario, scenario, AS_OF, at_a=DAYS[0])["counts"]
    assert reader.write_attempts == []
    # A version stored only as a delta must be rebuilt once, which writes: a clear refusal.
    with pytest.raises(HistoryError) as refused:
        dump_scenario(reader, scenario, DAYS[1])
    assert "needs a Neo4j user that may write" in str(refused.value)


def test_a_kill_during_a_load_then_reads_at_every_date(
    db: Database, scenario: str, bundles: list[Path], refs: list[dict[str, Any]], cli_env: dict[str, str]
) -> None:
    load_bundle(db, bundles[0], scenario, effective=DAYS[0], history=NOW)
    load_bundle(db, bundles[1], scenario, effective=DAYS[1], history=NOW)
    for point, latest in (("staging", refs[1]), ("switched", refs[2])):
        child = LoaderChild("tests.loaders._staged_child", [str(bundles[2]), scenario, point], cli_env)
        child.wait_for(point)
        child.kill()
        assert dump_scenario(db, scenario, DAYS[0]) == refs[0]
        assert dump_scenario(db, scenario, DAYS[1]) == refs[1]
        assert dump_scenario(db, scenario) == latest
    assert leftovers(db, scenario) > 0  # the staging copy of the first kill, invisible
    load_bundle(db, bundles[2], scenario, history=HistoryPolicy(lease_s=0, grace_s=0))
    assert leftovers(db, scenario) == 0
    assert [v.seq for v in versions(db, scenario)] == [1, 2, 3]


def test_staging_is_invisible_to_scenario_reads(db: Database, scenario: str, bundles: list[Path]) -> None:
    load_bundle(db, bundles[0], scenario)
    before = dump_scenario(db, scenario)
    seen: list[int] = []

    def read_meanwhile(done: int, total: int) -> None:
        if done == total - 1:  # everything staged, the switch next
            with consistent_view(db, scenario) as view:
                seen.append(
                    view.read("MATCH (n:Entity {scenario: $s}) RETURN count(n) AS n", {"s": view.physical})[0]["n"]
                )
            assert leftovers(db, scenario) > 0

    load_bundle(db, bundles[1], scenario, progress=read_meanwhile)
    assert seen == [len(before["nodes"])]


def test_concurrent_loads_and_reads_never_see_mixed_versions(
    tmp_path: Path,
    db: Database,
    scenario: str,
    bundles: list[Path],
    refs: list[dict[str, Any]],
    cli_env: dict[str, str],
) -> None:
    load_bundle(db, bundles[0], scenario)
    known = {_fingerprint(r) for r in refs}
    loaders = [
        subprocess.Popen(
            [sys.executable, "-m", "cli.main", "load", str(path), "--scenario", scenario, "--quiet"],
            env=cli_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for path in (bundles[1], bundles[2], bundles[0], bundles[1])
    ]
    seen: set[str] = set()
    deadline = time.monotonic() + 300
    while any(p.poll() is None for p in loaders) and time.monotonic() < deadline:
        seen.add(_fingerprint(dump_scenario(db, scenario)))
    assert [p.wait(timeout=60) for p in loaders] == [0, 0, 0, 0], [p.stderr.read() for p in loaders if p.stderr]
    seen.add(_fingerprint(dump_scenario(db, scenario)))
    assert seen <= known  # every read was exactly one of the bundles
    assert len(versions(db, scenario)) >= 2


def _fingerprint(dump: dict[str, Any]) -> str:
    return repr(dump)


def test_a_past_weeks_report_is_rebuilt_from_history_alone(
    db: Database, scenario: str, bundles: list[Path], refs: list[dict[str, Any]]
) -> None:
    _load_series(db, scenario, bundles)
    catalog = load_catalog()
    week = DAYS[1] + timedelta(days=7)
    report = build_report(db, catalog, scenario, week, at=week)
    expected = run_checks(db, catalog, f"{scenario}-r1", week)["findings"]
    assert report["as_of"] == week.isoformat()
    assert report["counts"]["open"]["total"] == len([f for f in expected if "waived" not in f])
    assert stored_report(db, catalog, scenario, week)["counts"] == report["counts"]


def _named(units: str) -> dict[str, Any]:
    """SMALL_BUNDLE with the group unit renamed: a version that differs in one entity."""
    bundle = {k: [dict(i) for i in v] for k, v in SMALL_BUNDLE.items()}
    bundle["units"][0]["name"] = units
    return bundle


def test_versions_in_window_lists_each_version_in_force_with_its_interval(
    db: Database, scenario: str, tmp_path: Path
) -> None:
    jan, feb, mar = date(2026, 1, 5), date(2026, 2, 2), date(2026, 3, 2)
    for n, (name, day) in enumerate((("One", jan), ("Two", mar), ("Three", feb), ("Four", mar))):
        load_bundle(db, write_yaml(_named(name), tmp_path / f"v{n}.yaml"), scenario, effective=day, history=NOW)
    assert versions(db, scenario)[0].stored == "delta"
    # Version 2 (dated 2 March) is superseded on its own day by version 4: never in force.
    everything = versions_in_window(db, scenario, None, date(2026, 12, 31))
    assert [(w.seq, w.start, w.end) for w in everything] == [(1, jan, feb), (3, feb, mar), (4, mar, None)]
    for window, name in zip(everything, ("One", "Three", "Four"), strict=True):
        rows = db.read("MATCH (u:Unit {scenario: $p, id: 'u-group'}) RETURN u.name AS name", {"p": window.physical})
        assert rows == [{"name": name}], window
    assert window.physical == physical_name(db, scenario)
    assert versions(db, scenario)[0].stored == "cached"  # version 1 was rebuilt, as any read of it is
    assert [w.seq for w in versions_in_window(db, scenario, date(2026, 2, 10), date(2026, 2, 20))] == [3]
    assert [w.seq for w in versions_in_window(db, scenario, None, jan)] == [1]
    assert [w.seq for w in versions_in_window(db, scenario, feb, feb)] == [3]
    assert [w.seq for w in versions_in_window(db, scenario, date(2026, 2, 1), feb)] == [1, 3]
    assert versions_in_window(db, scenario, None, date(2025, 12, 31)) == []
    with pytest.raises(ValueError):
        versions_in_window(db, scenario, mar, feb)
    with pytest.raises(NotFound):
        versions_in_window(db, f"{scenario}-never", None, mar)


def test_ids_in_any_version_finds_every_version_s_ids_without_rebuilding_one(
    db: Database, scenario: str, bundles: list[Path], refs: list[dict[str, Any]]
) -> None:
    _load_series(db, scenario, bundles)
    ids_by_version = [{n["id"] for n in ref["nodes"]} for ref in refs]
    only_old = ids_by_version[0] - ids_by_version[2]
    assert only_old  # the insurer has entities the small bundle lacks
    asked = ids_by_version[0] | ids_by_version[1] | ids_by_version[2] | {"no-such-entity"}

    assert ids_in_any_version(db, scenario, asked) == asked - {"no-such-entity"}
    assert [v.stored for v in versions(db, scenario)] == ["delta", "delta", "copy"]
    assert ids_in_any_version(db, scenario, []) == set()


def test_latest_physical_is_the_last_loaded_version_s_copy(db: Database, scenario: str, bundles: list[Path]) -> None:
    load_bundle(db, bundles[0], scenario, effective=DAYS[2], history=NOW)
    load_bundle(db, bundles[1], scenario, effective=DAYS[0], history=NOW)  # back-dated: in force today is the first

    latest = latest_physical(db, scenario)
    assert latest != physical_name(db, scenario)
    assert latest == physical_name(db, scenario, DAYS[1])
    with pytest.raises(NotFound):
        latest_physical(db, f"{scenario}-never")


def test_a_load_equal_to_the_last_load_but_not_to_the_version_in_force_makes_a_version(
    db: Database, scenario: str, bundles: list[Path], refs: list[dict[str, Any]]
) -> None:
    """Reported by a tester: after a back-dated load, loading the same bundle again for the
    later date stored nothing and said "0 changes", leaving the earlier bundle in force."""
    load_bundle(db, bundles[0], scenario, effective=DAYS[2], history=NOW)
    load_bundle(db, bundles[1], scenario, effective=DAYS[0], history=NOW)  # back-dated: in force until DAYS[2]
    assert dump_scenario(db, scenario, DAYS[2]) == refs[0]

    again = load_bundle(db, bundles[1], scenario, effective=DAYS[2], history=NOW)

    assert again.changed
    assert [(v.seq, v.effective) for v in versions(db, scenario)] == [(1, DAYS[2]), (2, DAYS[0]), (3, DAYS[2])]
    assert dump_scenario(db, scenario, DAYS[2]) == refs[1]
    assert dump_scenario(db, scenario, DAYS[0]) == refs[1]


def test_a_load_equal_to_the_version_in_force_on_its_day_adds_nothing(
    db: Database, scenario: str, bundles: list[Path]
) -> None:
    load_bundle(db, bundles[0], scenario, effective=DAYS[0], history=NOW)
    load_bundle(db, bundles[1], scenario, effective=DAYS[2], history=NOW)

    same = load_bundle(db, bundles[0], scenario, effective=DAYS[1], history=NOW)  # bundles[0] is in force then

    assert not same.changed
    assert [v.seq for v in versions(db, scenario)] == [1, 2]


def test_a_back_dated_load_reports_its_changes_against_the_version_in_force_that_day(
    db: Database, scenario: str, bundles: list[Path]
) -> None:
    load_bundle(db, bundles[0], f"{scenario}-ref")
    reference = load_bundle(db, bundles[2], f"{scenario}-ref")
    delete_scenario(db, f"{scenario}-ref")
    load_bundle(db, bundles[0], scenario, effective=DAYS[0], history=NOW)
    load_bundle(db, bundles[1], scenario, effective=DAYS[2], history=NOW)

    back_dated = load_bundle(db, bundles[2], scenario, effective=DAYS[1], history=NOW)

    assert (back_dated.entities, back_dated.relationships) == (reference.entities, reference.relationships)
    assert versions(db, scenario)[-1].changes == {
        k: v for k, v in reference.as_dict().items() if k in ("entities", "relationships")
    }
