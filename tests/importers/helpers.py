"""Shared pieces of the importer tests: fixture paths, writing and loading an imported bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graph.db import Database
from graph.dump import dump_scenario
from importers.bundle import dump_bundle
from loaders import load_bundle, read_bundle

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "import"


def section(bundle: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    """The items of a section by id."""
    return {item["id"]: item for item in bundle.get(name, [])}


def write(bundle: dict[str, Any], path: Path) -> Path:
    dump_bundle(bundle, path, "test")
    return path


def load(db: Database, bundle: dict[str, Any], tmp_path: Path, scenario: str) -> dict[str, list[Any]]:
    """Load the imported bundle as a user would (its YAML file) and return the scenario's dump."""
    path = write(bundle, tmp_path / "imported.yaml")
    read_bundle(path)
    load_bundle(db, path, scenario)
    return dump_scenario(db, scenario)
