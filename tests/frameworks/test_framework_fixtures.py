"""Each shipped obligation holds on its positive fixture and fails on its negative one, in Neo4j.

Fixtures: queries/frameworks/fixtures/<framework>/<obligation>.positive.yaml / .negative.yaml
(bundles, checked as of AS_OF). The negative one fails exactly the obligation's first item.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from graph.consistent import consistent_view
from graph.db import Database
from loaders import load_bundle
from queries.catalog import load_catalog
from queries.coverage import ObligationResult, evaluate
from queries.frameworks import BUILTIN_FRAMEWORK_DIR, Framework, Obligation, load_frameworks

AS_OF = date(2026, 11, 22)
FIXTURES = BUILTIN_FRAMEWORK_DIR / "fixtures"
PAIRS = [(f, o) for f in load_frameworks().frameworks for o in f.spec.obligations]


def _fixture(framework: Framework, obligation: Obligation, kind: str) -> Path:
    return FIXTURES / framework.id / f"{obligation.id}.{kind}.yaml"


def _evaluate(db: Database, scenario: str, framework: Framework, obligation: Obligation, kind: str) -> ObligationResult:
    load_bundle(db, _fixture(framework, obligation, kind), scenario)
    with consistent_view(db, scenario) as view:
        return evaluate(view, framework, obligation, AS_OF, load_catalog(), {})


def test_the_three_frameworks_are_shipped() -> None:
    assert load_frameworks().ids() == ["eu-ai-act", "iso-42001", "nist-ai-rmf"]


def test_every_obligation_has_both_fixtures() -> None:
    missing = [
        _fixture(f, o, kind).name
        for f, o in PAIRS
        for kind in ("positive", "negative")
        if not _fixture(f, o, kind).is_file()
    ]
    assert missing == []


@pytest.mark.parametrize(("framework", "obligation"), PAIRS, ids=[f"{f.id}:{o.id}" for f, o in PAIRS])
def test_positive_fixture_satisfies(db: Database, scenario: str, framework: Framework, obligation: Obligation) -> None:
    result = _evaluate(db, scenario, framework, obligation, "positive")
    assert (result["applicable"], result["satisfied"], result["unsatisfied"]) == (1, 1, [])


@pytest.mark.parametrize(("framework", "obligation"), PAIRS, ids=[f"{f.id}:{o.id}" for f, o in PAIRS])
def test_negative_fixture_fails_the_first_item(
    db: Database, scenario: str, framework: Framework, obligation: Obligation
) -> None:
    result = _evaluate(db, scenario, framework, obligation, "negative")
    assert result["applicable"] == 1
    assert result["satisfied"] == 0
    assert [u["failing"] for u in result["unsatisfied"]] == [[obligation.satisfied_by[0].as_dict()]]
