"""Property-based: random valid bundles load in all four forms and re-load with no change; random
corruptions of them are refused, naming the place, and leave the scenario as it was."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from graph.db import Database
from graph.dump import dump_scenario
from graph.sync import delete_scenario
from loaders import BundleError, load_bundle, read_bundle
from tests.reliability.strategies import (
    FORM_CORRUPTIONS,
    FORMS,
    Corruption,
    corruptions,
    entity_count,
    expected_places,
    mangle,
    valid_bundles,
    write_form,
)

# `make test` runs these counts; TOMGRAPH_RELIABILITY_SCALE=N runs N times as many examples.
SCALE = int(os.environ.get("TOMGRAPH_RELIABILITY_SCALE", "1"))
COMMON: dict[str, Any] = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    # no shrinking: against a real database it takes minutes; a failure prints its example anyway
    "phases": (Phase.explicit, Phase.generate),
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
}
TRIED: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report_counts() -> Iterator[None]:
    yield
    print(f"\nproperty tests: {dict(sorted(TRIED.items()))}")


PROBLEM_LINE = re.compile(r"^(?P<place>[^:!]+(?::row \d+|!row \d+|:\d+)?): (?P<field>[^:]+): (?P<message>.+)$")


def _entities(path: Path) -> list[tuple[str, str, list[tuple[str, Any]], list[tuple[str, Any]]]]:
    bundle = read_bundle(path)
    return sorted((e.section, e.id, sorted(e.props.items()), sorted(e.refs.items())) for e in bundle.entities)


@settings(max_examples=20 * SCALE, **COMMON)
@given(bundle=valid_bundles())
def test_valid_bundles_read_the_same_in_all_four_forms(bundle: dict[str, Any]) -> None:
    TRIED["valid bundles read in 4 forms"] += 1
    TRIED["entities read"] += entity_count(bundle) * len(FORMS)
    with tempfile.TemporaryDirectory() as tmp:
        read = {form: _entities(write_form(bundle, form, Path(tmp) / form)) for form in FORMS}
    assert len(read["yaml"]) == entity_count(bundle)
    for form in FORMS[1:]:
        assert read[form] == read["yaml"], form


@settings(max_examples=15 * SCALE, **COMMON)
@given(bundle=valid_bundles(), form=st.sampled_from(FORMS), data=st.data())
def test_valid_bundle_loads_reloads_unchanged_and_a_corruption_changes_nothing(
    db: Database, bundle: dict[str, Any], form: str, data: st.DataObject
) -> None:
    scenario = f"t-prop-{uuid.uuid4().hex[:10]}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = write_form(bundle, form, Path(tmp) / "good")
            first = load_bundle(db, path, scenario)
            assert first.entity_count == entity_count(bundle)
            loaded = dump_scenario(db, scenario)
            assert len(loaded["nodes"]) == entity_count(bundle)
            again = load_bundle(db, path, scenario)
            assert not again.changed, again.as_dict()
            assert dump_scenario(db, scenario) == loaded

            TRIED[f"valid bundles loaded and re-loaded ({form})"] += 1
            corruption = data.draw(corruptions(bundle, form), label="corruption")
            TRIED[f"corruption {corruption.kind}"] += 1
            bad = _write_corruption(bundle, corruption, form, Path(tmp) / "bad")
            with pytest.raises(BundleError) as caught:
                load_bundle(db, bad, scenario)
            _assert_names_the_place([str(p) for p in caught.value.problems], corruption, form, bad)
            assert dump_scenario(db, scenario) == loaded
    finally:
        delete_scenario(db, scenario)


@pytest.mark.parametrize(
    ("form", "kind"),
    [pytest.param(form, kind, id=f"{form}-{kind}") for form in FORMS for kind in FORM_CORRUPTIONS[form]],
)
@settings(max_examples=4 * SCALE, **COMMON)
@given(bundle=valid_bundles(max_per_kind=3), data=st.data())
def test_every_kind_of_corruption_in_every_form_is_refused_naming_the_place(
    form: str, kind: str, bundle: dict[str, Any], data: st.DataObject
) -> None:
    corruption = data.draw(corruptions(bundle, form, only=kind), label="corruption")
    TRIED[f"corruption {kind} ({form}), read only"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        bad = _write_corruption(bundle, corruption, form, Path(tmp) / "bad")
        with pytest.raises(BundleError) as caught:
            read_bundle(bad)
        _assert_names_the_place([str(p) for p in caught.value.problems], corruption, form, bad)


def _write_corruption(bundle: dict[str, Any], corruption: Corruption, form: str, directory: Path) -> Path:
    if corruption.mangle:
        return mangle(write_form(bundle, form, directory), corruption.mangle, form)
    assert corruption.bundle is not None
    return write_form(corruption.bundle, form, directory)


def _assert_names_the_place(lines: list[str], corruption: Corruption, form: str, path: Path) -> None:
    assert lines, "no problem reported"
    parsed = [PROBLEM_LINE.match(line) for line in lines]
    assert all(parsed), lines
    places = {(m["place"], m["field"]) for m in parsed if m}
    if corruption.mangle:
        files = {path.name} if form != "csv" else {p.name for p in path.iterdir()}
        assert any(place.split(":")[0] in files for place, _ in places), (corruption.kind, lines)
        return
    expected = expected_places(corruption, form, path)
    if corruption.field is None:
        assert any(place in expected for place, _ in places), (corruption.kind, expected, lines)
    else:
        assert any(place in expected and field == corruption.field for place, field in places), (
            corruption.kind,
            expected,
            corruption.field,
            lines,
        )


# Through the real command in a child process: exit 2, PLACE: FIELD: MESSAGE lines, no change.
CLI_SAMPLE = 5 * SCALE


@settings(max_examples=CLI_SAMPLE, **COMMON)
@given(bundle=valid_bundles(max_per_kind=3), form=st.sampled_from(FORMS), data=st.data())
def test_tomgraph_load_refuses_a_corrupt_bundle_with_exit_2(
    db: Database, cli_env: dict[str, str], bundle: dict[str, Any], form: str, data: st.DataObject
) -> None:
    scenario = f"t-cli-{uuid.uuid4().hex[:10]}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            load_bundle(db, write_form(bundle, form, Path(tmp) / "good"), scenario)
            before = dump_scenario(db, scenario)
            corruption = data.draw(corruptions(bundle, form), label="corruption")
            TRIED[f"cli corruption {corruption.kind} ({form})"] += 1
            bad = _write_corruption(bundle, corruption, form, Path(tmp) / "bad")
            done = subprocess.run(
                [sys.executable, "-m", "cli.main", "load", str(bad), "--scenario", scenario, "--quiet"],
                env=cli_env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 2, done.stderr
            lines = done.stderr.strip().splitlines()
            assert re.match(r"^\d+ problems? in the bundle$", lines[0]), lines
            _assert_names_the_place(lines[1:], corruption, form, bad)
            assert dump_scenario(db, scenario) == before
    finally:
        delete_scenario(db, scenario)
