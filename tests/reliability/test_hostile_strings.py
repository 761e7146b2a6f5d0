"""Hostile strings are stored and read back byte for byte as plain data; nothing runs as Cypher."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.db import Database
from graph.dump import dump_scenario
from graph.sync import delete_scenario
from loaders import load_bundle
from tests.bundles import SMALL_BUNDLE, write_directory, write_json, write_yaml

HOSTILE = [
    "'}) DETACH DELETE n //",
    '"}) MATCH (m) DETACH DELETE m RETURN 1 //',
    "`Entity`) DETACH DELETE n //",
    "`",
    "$scenario",
    "${scenario} $rows {rows}",
    "x'); CALL dbms.components() //",
    "MATCH (n) DETACH DELETE n",
    "line one\nline two\r\nline three",
    "bell\x07inside",  # a control character is kept as data (NUL is refused: test_real_files.py)
    "\u202eevil.exe\u202c right-to-left",
    "emoji 🧨💥👩‍👩‍👧 and 中文 and Ωμέγα",
    "<script>alert('x')</script>",
    "back\\slash \\' \\u0000",
    "tab\tand\u00a0nbsp",
]
# Names and tags are stripped of surrounding whitespace; these have none.
# Ids may hold '.', '_', ':' and '-': the id pattern still lets some Cypher-looking ones through.
HOSTILE_IDS = ["a:b.c-d", "n.id", "MATCH:n-DETACH.DELETE", "x--1", "0:0", "scenario:current", "a.b.c.d.e.f_g"]
HOSTILE_SCENARIOS = [
    "x'}) DETACH DELETE n //",
    "a b",
    "`x`",
    "$s",
    "new\nline",
    "\u202ertl",
    "🧨",
    "x" * 65,
]


def _hostile_bundle() -> dict[str, Any]:
    units = []
    for i, text in enumerate(HOSTILE):
        units.append(
            {
                "id": HOSTILE_IDS[i % len(HOSTILE_IDS)] + f"-{i}",
                "name": text.strip(),
                "description": text,
                "tags": [text.strip().replace(";", ","), f"t{i}"],  # ';' separates list cells
                "properties": {"hostile": text, f"k{i}": i},
            }
        )
    units += [{"id": i, "name": i} for i in HOSTILE_IDS]
    roles = [{"id": "r-1", "name": HOSTILE[0], "unit": HOSTILE_IDS[0]}]
    return {"units": units, "roles": roles}


def _expected_nodes(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for item in bundle["units"]:
        props: dict[str, Any] = {"id": item["id"], "name": item["name"]}
        if "description" in item:
            props["description"] = item["description"]
            props["tags"] = item["tags"]
            props.update({f"properties.{k}": v for k, v in item["properties"].items()})
        out[item["id"]] = props
    return out


@pytest.fixture
def witness(tmp_path: Path, db: Database, scenario: str) -> Iterator[str]:
    """Another scenario, loaded first: anything executed by a hostile string would touch it.
    (The test database is shared with concurrent work, so the whole database is not compared.)"""
    name = f"{scenario}-witness"
    load_bundle(db, write_yaml(SMALL_BUNDLE, tmp_path / "witness.yaml"), name)
    yield name
    delete_scenario(db, name)


def _outside(db: Database, witness: str) -> Any:
    scenario = db.read("MATCH (s:Scenario {name: $s}) RETURN s.entity_count AS n, s.bundle_digest AS d", {"s": witness})
    return dump_scenario(db, witness), scenario


@pytest.mark.parametrize("form", ["yaml", "json", "csv"])
def test_hostile_strings_are_stored_and_read_back_byte_for_byte(
    tmp_path: Path, db: Database, scenario: str, witness: str, form: str
) -> None:
    bundle = _hostile_bundle()
    if form == "csv":
        # a cell is text: keep the one value a CSV cell cannot hold unchanged (surrounding whitespace)
        for item in bundle["units"]:
            if "description" in item:
                item["description"] = item["description"].strip()
                item["properties"]["hostile"] = item["properties"]["hostile"].strip()
        path = write_directory(bundle, tmp_path / "b", {"units", "roles"})
    elif form == "json":
        path = write_json(bundle, tmp_path / "b.json")
    else:
        path = write_yaml(bundle, tmp_path / "b.yaml")
    before = _outside(db, witness)
    result = load_bundle(db, path, scenario)
    assert result.entity_count == len(bundle["units"]) + 1
    assert _outside(db, witness) == before
    dump = dump_scenario(db, scenario)
    stored = {n["id"]: {k: v for k, v in n.items() if k != "labels"} for n in dump["nodes"] if "Unit" in n["labels"]}
    assert stored == _expected_nodes(bundle)
    assert dump["relationships"] == [("IN_UNIT", "r-1", HOSTILE_IDS[0])]
    # a second load of the same hostile data changes nothing
    assert not load_bundle(db, path, scenario).changed


def test_hostile_scenario_names_are_refused_by_the_command(
    tmp_path: Path, db: Database, witness: str, cli_env: dict[str, str]
) -> None:
    path = write_yaml({"units": [{"id": "u1", "name": "One"}]}, tmp_path / "b.yaml")
    before = _outside(db, witness)
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "cli.main", "load", str(path), "--scenario", name, "--quiet"],
            env=cli_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in HOSTILE_SCENARIOS
    ]
    for name, child in zip(HOSTILE_SCENARIOS, children, strict=True):
        _, stderr = child.communicate(timeout=120)
        assert child.returncode == 1, (name, stderr)
        assert stderr.startswith("error: invalid scenario name "), stderr
        assert "Traceback" not in stderr
    assert _outside(db, witness) == before
