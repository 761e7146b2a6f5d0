"""The framework loader is strict and says where: `file:line: field: message` for every problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.settings import Settings
from queries.frameworks import FrameworkError, UnknownFrameworkError, load_framework_file, load_frameworks

GOOD = """\
framework: ours
title: Our AI policy
version: "1"
source: https://intranet.example/ai
obligations:
  - id: stop
    ref: "4.2"
    title: Someone can stop it
    applies_to: {kind: models, where: {risk_tier: [high]}}
    satisfied_by:
      - right: shutdown_authority
    maps_to: [eu-ai-act:art14]
"""


def _write(directory: Path, text: str, name: str = "ours.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(FrameworkError) as caught:
        load_framework_file(path)
    return caught.value.problems


def test_a_framework_dir_from_the_environment_adds_its_frameworks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "a", GOOD)
    monkeypatch.setenv("TOMGRAPH_FRAMEWORK_DIRS", str(tmp_path / "a"))
    registry = load_frameworks(Settings().framework_dirs)
    assert registry.ids() == ["eu-ai-act", "iso-42001", "nist-ai-rmf", "ours"]
    assert [o.id for o in registry.select(["ours"])[0].spec.obligations] == ["stop"]


def test_an_unknown_key_is_named_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("    maps_to:", "    severity: high\n    maps_to:"))
    assert _problems(path) == [f"{path}:12: obligations.0.severity: unknown field"]


def test_an_item_with_two_kinds_or_an_unknown_right_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("- right: shutdown_authority", "- {right: stop_it, control: audit}"))
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}:11: obligations.0.satisfied_by.0: ")
    assert "exactly one of right, control" in problem


def test_unknown_right_kind_and_where_field(tmp_path: Path) -> None:
    text = GOOD.replace("right: shutdown_authority", "right: stop_it").replace("risk_tier: [high]", "colour: [red]")
    problems = _problems(_write(tmp_path, text))
    assert [p.split(": ", 1)[1].split(":")[0] for p in problems] == [
        "obligations.0.applies_to",
        "obligations.0.satisfied_by.0",
    ]
    assert "colour is not a field of models" in problems[0]
    assert "'stop_it' is not one of change_approval" in problems[1]


def test_duplicate_obligation_and_file_name_mismatch(tmp_path: Path) -> None:
    obligation = GOOD[GOOD.index("  - id: stop") :]
    path = _write(tmp_path, GOOD + obligation, name="theirs.yaml")
    assert _problems(path) == [
        f"{path}:1: framework: 'ours' must match the file name 'theirs.yaml'",
        f"{path}:13: obligations.1.id: duplicate obligation id 'stop'",
    ]


def test_a_cypher_item_may_use_only_the_passed_parameters(tmp_path: Path) -> None:
    text = GOOD.replace(
        "- right: shutdown_authority",
        '- cypher: "MATCH (m {scenario: $scenario}) WHERE m.x = $limit RETURN m.id AS id"',
    )
    path = _write(tmp_path, text)
    assert _problems(path) == [
        f"{path}:11: obligations.0.satisfied_by.0.cypher: only $scenario, $as_of and $ids are passed, not $limit"
    ]


def test_a_framework_defined_twice_and_an_unknown_id(tmp_path: Path) -> None:
    _write(tmp_path / "a", GOOD)
    _write(tmp_path / "b", GOOD)
    with pytest.raises(FrameworkError) as caught:
        load_frameworks([tmp_path / "a", tmp_path / "b"])
    assert caught.value.problems == [
        f"{tmp_path / 'b' / 'ours.yaml'}:1: framework: duplicate framework id 'ours'"
        f" (also defined in {tmp_path / 'a' / 'ours.yaml'})"
    ]
    with pytest.raises(UnknownFrameworkError, match="unknown framework: dora"):
        load_frameworks().select(["dora"])
