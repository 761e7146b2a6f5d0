"""Two `tomgraph load`s and a `tomgraph report` on one scenario at once, as real processes.

The scenario starts at version 0; load A, load B and the report start together. What the code
does, and what is asserted: both loads exit 0, the second one waiting on the scenario's lock and
then loading over the first one's result (its summary counts the changes from the first version,
not from version 0); the scenario ends exactly as the version loaded second; and the report holds
exactly the findings of version 0, of A or of B, never a mix. Versions 0, A
and B are three synthetic enterprises (`loaders.synth`, seeds 0, 1, 2: about 1,000 entities and
60 findings in 25 checks each, with names in the findings' messages), so that every version has
findings of its own in nearly every check and a report that mixed two versions would match none.
The references (dumps, load summaries and findings) come from loading the same bundles in-process
into scenarios of their own.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from graph.db import Database
from graph.dump import dump_scenario
from graph.sync import SyncResult, delete_scenario
from loaders import load_bundle, synth
from queries.catalog import load_catalog
from queries.findings import Finding
from queries.runner import run_checks

# `make test` runs three rounds; TOMGRAPH_RELIABILITY_SCALE=N runs 3N.
ROUNDS = 3 * int(os.environ.get("TOMGRAPH_RELIABILITY_SCALE", "1"))
VERSIONS = {"0": 0, "A": 1, "B": 2}  # version -> synth seed
AS_OF = synth.AS_OF.isoformat()
SUMMARY = re.compile(r"^Loaded (?P<path>\S+) into scenario '(?P<scenario>[^']+)' in [\d.]+ s: (?P<counts>.+)$")


def _counts(result: SyncResult) -> str:
    """The part of `tomgraph load`'s summary line after the time, for a given result."""
    entities = result.entities.values()
    rels = result.relationships.values()
    return (
        f"{result.entity_count} entities ({sum(c.created for c in entities)} created, "
        f"{sum(c.updated for c in entities)} updated, {sum(c.removed for c in entities)} removed), "
        f"{result.relationship_count} relationships ({sum(c.created for c in rels)} created, "
        f"{sum(c.removed for c in rels)} removed)"
    )


@dataclass
class References:
    paths: dict[str, Path]
    dumps: dict[str, dict[str, list[Any]]]
    findings: dict[str, list[Finding]]
    summaries: dict[tuple[str, str], str]  # (version before, version loaded) -> summary counts


@pytest.fixture
def references(tmp_path_factory: pytest.TempPathFactory, db: Database, scenario: str) -> Iterator[References]:
    """Each version loaded alone into a scenario of its own; and A over B, B over A."""
    directory = tmp_path_factory.mktemp("versions")
    paths = {}
    for version, seed in VERSIONS.items():
        bundle, _ = synth.generate("small", seed)
        synth.write_generated(bundle, {}, directory / version)
        paths[version] = directory / version / "bundle.json"
    catalog = load_catalog()
    names = [f"{scenario}-ref-{v.lower()}" for v in VERSIONS]
    dumps, findings, summaries = {}, {}, {}
    try:
        for version, name in zip(VERSIONS, names, strict=True):
            load_bundle(db, paths["0"], name)
            if version != "0":
                summaries[("0", version)] = _counts(load_bundle(db, paths[version], name))
            dumps[version] = dump_scenario(db, name)
            findings[version] = run_checks(db, catalog, name, synth.AS_OF)["findings"]
        for before, after in (("A", "B"), ("B", "A")):
            name = names[list(VERSIONS).index(before)]
            summaries[(before, after)] = _counts(load_bundle(db, paths[after], name))
            assert dump_scenario(db, name) == dumps[after]
        yield References(paths, dumps, findings, summaries)
    finally:
        for name in names:
            delete_scenario(db, name)


def _tomgraph(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _report_findings(out_dir: Path) -> list[dict[str, Any]]:
    """The findings of a written report.json, as `run_checks` returns them."""
    report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    # The as-of date is the same in every round and no earlier snapshot exists: all findings are new.
    assert report["previous_as_of"] is None
    assert report["persisting"] == [] and report["resolved"] == []
    findings: list[dict[str, Any]] = report["new"]
    return findings


def _versions_by_check(reported: list[dict[str, Any]], references: dict[str, list[Finding]]) -> str:
    """For a report that matches no version: which versions each check's findings match."""
    every: list[Sequence[Mapping[str, Any]]] = [reported, *references.values()]
    checks = sorted({f["check"] for findings in every for f in findings})

    def of(findings: Sequence[Mapping[str, Any]], check: str) -> list[Mapping[str, Any]]:
        return [f for f in findings if f["check"] == check]

    parts = [f"{c}: {''.join(v for v, r in references.items() if of(r, c) == of(reported, c)) or '-'}" for c in checks]
    return "the report mixes versions; per check, the versions it matches: " + ", ".join(parts)


def test_two_loads_and_a_report_at_once_never_mix_versions(
    tmp_path: Path, db: Database, scenario: str, references: References, cli_env: dict[str, str]
) -> None:
    ref = references
    # The three versions can be told apart by their dumps, their findings and every load summary.
    assert len({json.dumps(d, sort_keys=True) for d in ref.dumps.values()}) == 3
    assert len({json.dumps(f, sort_keys=True) for f in ref.findings.values()}) == 3
    assert len(set(ref.summaries.values())) == 4

    outcomes = []
    for round_ in range(ROUNDS):
        load_bundle(db, ref.paths["0"], scenario)
        assert dump_scenario(db, scenario) == ref.dumps["0"]
        out_dir = tmp_path / f"report-{round_}"
        # Alternate the start order, so neither load is always first to the lock.
        order = ("A", "B") if round_ % 2 == 0 else ("B", "A")
        children = {v: _tomgraph("load", str(ref.paths[v]), "-s", scenario, "--quiet", env=cli_env) for v in order}
        report = _tomgraph("report", "-s", scenario, "--as-of", AS_OF, "--out", str(out_dir), env=cli_env)
        results = {v: child.communicate(timeout=300) for v, child in children.items()}
        report_out, report_err = report.communicate(timeout=300)

        # Both loads succeed: the second waits for the first one's lock, then loads over its result.
        for version, child in children.items():
            assert child.returncode == 0, (version, results[version])
            assert results[version][1] == ""
        lines = {}
        for version, (stdout, _) in results.items():
            match = SUMMARY.match(stdout.strip())
            assert match is not None, stdout
            assert (match["path"], match["scenario"]) == (str(ref.paths[version]), scenario)
            lines[version] = match["counts"]
        # Exactly one of them loaded over version 0, and the other over the first one's result.
        firsts = [v for v in ("A", "B") if lines[v] == ref.summaries[("0", v)]]
        assert len(firsts) == 1, lines
        first, second = (firsts[0], "B") if firsts[0] == "A" else (firsts[0], "A")
        assert lines[second] == ref.summaries[(first, second)], lines
        # No interleaving: the scenario is exactly the version loaded last.
        assert dump_scenario(db, scenario) == ref.dumps[second]

        assert report.returncode == 0, report_err
        assert report_out.startswith(f"Report for scenario '{scenario}' as of {AS_OF} (first report): ")
        reported = _report_findings(out_dir)
        seen = [v for v, findings in ref.findings.items() if reported == findings]
        assert len(seen) == 1, f"round {round_}: {_versions_by_check(reported, ref.findings)}"
        outcomes.append((first, second, seen[0]))

    sizes = {v: (len(d["nodes"]), len(ref.findings[v])) for v, d in ref.dumps.items()}
    print(f"\n(entities, findings) per version: {sizes}")
    print(f"{ROUNDS} rounds (first load, second load, version the report saw): {outcomes}")
