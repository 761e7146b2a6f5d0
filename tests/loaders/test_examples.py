"""The shipped insurer example: its four forms give identical graphs."""

from __future__ import annotations

from pathlib import Path

from graph.db import Database
from graph.dump import dump_scenario
from graph.sync import delete_scenario
from loaders import load_bundle

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_insurer_forms_give_identical_graphs(db: Database, scenario: str) -> None:
    forms = {
        "directory": EXAMPLES / "insurer",
        "yaml": EXAMPLES / "insurer.yaml",
        "json": EXAMPLES / "insurer.json",
        "xlsx": EXAMPLES / "insurer.xlsx",
    }
    dumps = {}
    for name, path in forms.items():
        load_bundle(db, path, f"{scenario}-{name}")
        dumps[name] = dump_scenario(db, f"{scenario}-{name}")
        delete_scenario(db, f"{scenario}-{name}")
    assert len(dumps["directory"]["nodes"]) == 153  # 152 entities and the meta node
    assert dumps["yaml"] == dumps["directory"]
    assert dumps["json"] == dumps["directory"]
    assert dumps["xlsx"] == dumps["directory"]


def test_insurer_target_loads_beside_current(db: Database, scenario: str) -> None:
    current = load_bundle(db, EXAMPLES / "insurer", scenario)
    target = load_bundle(db, EXAMPLES / "insurer-target", f"{scenario}-target")
    delete_scenario(db, f"{scenario}-target")
    assert current.entity_count == 153
    assert target.entity_count > 0
