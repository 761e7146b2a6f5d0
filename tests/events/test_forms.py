"""Reading a log's objects (events.forms): a key named twice is found at any depth without
costing a JSON object more than json's own work, and never overflows the stack."""

from __future__ import annotations

from pathlib import Path

from events.forms import read_records
from loaders.problems import ProblemList


def test_a_key_named_twice_deep_inside_an_event_is_found_without_a_recursion_error(tmp_path: Path) -> None:
    depth = 900  # json reads this deep; a recursive walk from inside the reader would overflow
    nested = '{"a": ' * depth + '{"k": 1, "k": 2}' + "}" * depth
    log = tmp_path / "deep.jsonl"
    log.write_text(f'{{"id": "e-1", "properties": {{"x": {nested}}}}}\n')
    problems = ProblemList()
    records = list(read_records(log, "jsonl", problems))
    assert records == []  # refused: its fields are not read
    assert [str(p) for p in problems] == [
        f"deep.jsonl:1: properties.x{'.a' * depth}.k: duplicate key 'k' in the same object"
    ]


def test_objects_without_a_repeated_key_are_plain_dicts(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text('{"id": "e-1", "properties": {"a": 1}}\n{"id": "e-2", "id": "e-2"}\n')
    problems = ProblemList()
    (first,) = read_records(log, "jsonl", problems)
    assert type(first.fields) is dict and type(first.fields["properties"]) is dict
    assert [str(p) for p in problems] == ["log.jsonl:2: id: duplicate key 'id' in the same object"]


def test_an_object_with_a_key_named_twice_is_refused_whole_so_its_id_is_no_duplicate_of_a_later_one(
    tmp_path: Path,
) -> None:
    log = tmp_path / "dk.jsonl"
    log.write_text('{"id": "A", "id": "B"}\n{"id": "B"}\n')
    log_json = tmp_path / "dk.json"
    log_json.write_text('[{"id": "A", "id": "B"},\n {"id": "B"}]')
    for path, form in ((log, "jsonl"), (log_json, "json")):
        problems = ProblemList()
        assert [r.fields for r in read_records(path, form, problems)] == [{"id": "B"}]
        assert [str(p) for p in problems] == [f"{path.name}:1: id: duplicate key 'id' in the same object"]
