"""A duplicate id's problem names where the id was first used (events.md, "Loading"), found by
reading the log once more only when there is a duplicate; an id derived from an XES event's
content says so. No database: the helpers `events.store.read_log` uses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from events.forms import read_records
from events.records import DuplicateIds, RawRecord, duplicate_id_problem, validate_record
from loaders.problems import Problem, ProblemList

ROW = "2026-11-02T10:00:00Z,deployed,m-high,p-liam"
USED_ONCE = "an id is used once in a log"


def _read(path: Path, form: str) -> tuple[ProblemList, DuplicateIds]:
    """The problems of `path` as `read_log` finds duplicate ids: the first valid event with an id
    holds it; a later valid one is a duplicate."""
    problems, dups, seen = ProblemList(), DuplicateIds(), set()
    for record in read_records(path, form, problems):
        row, found = validate_record(record)
        problems.extend(found)
        if row is None:
            continue
        if row.id in seen:
            problems.append(dups.problem(record.place, row.id))
        seen.add(row.id)
    return problems, dups


def test_a_duplicate_names_the_first_valid_event_with_its_id(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(
        "id,time,activity,object,actor\n"
        f"e-1,2026-11-02,deployed,m-high,p-liam\ne-1,{ROW}\ne-2,{ROW}\ne-1,{ROW}\ne-2,{ROW}\ne-1,{ROW}\n"
    )
    problems, dups = _read(log, "csv")
    assert [str(p) for p in problems][1:] == [
        f"log.csv:row 5: id: duplicate id 'e-1': {USED_ONCE}",
        f"log.csv:row 6: id: duplicate id 'e-2': {USED_ONCE}",
        f"log.csv:row 7: id: duplicate id 'e-1': {USED_ONCE}",
    ]
    dups.resolve(problems, read_records(log, "csv", ProblemList()))
    assert [str(p) for p in problems] == [
        "log.csv:row 2: time: '2026-11-02' is a date; a time with a UTC offset is needed"
        " (e.g. 2026-11-02T09:15:00+01:00)",
        f"log.csv:row 5: id: duplicate id 'e-1' (first at log.csv:row 3): {USED_ONCE}",
        f"log.csv:row 6: id: duplicate id 'e-2' (first at log.csv:row 4): {USED_ONCE}",
        f"log.csv:row 7: id: duplicate id 'e-1' (first at log.csv:row 3): {USED_ONCE}",
    ]


def test_without_a_duplicate_the_log_is_not_read_again() -> None:
    def never() -> Iterator[RawRecord]:
        raise AssertionError("read again")
        yield  # pragma: no cover

    problems = ProblemList([Problem("log.csv:row 2", "time", "x")])
    DuplicateIds().resolve(problems, never())
    assert [str(p) for p in problems] == ["log.csv:row 2: time: x"]


EVENT = (
    '<event><string key="concept:name" value="deployed"/><date key="time:timestamp" value="2026-11-02T10:00:00Z"/>'
    '<string key="org:resource" value="p-liam"/></event>\n'
)


def test_a_duplicate_of_an_id_derived_from_an_xes_events_content_says_so(tmp_path: Path) -> None:
    log = tmp_path / "log.xes"
    log.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1849-2016">\n'
        f'<trace><string key="concept:name" value="m-high"/>\n{EVENT}{EVENT}</trace>\n</log>\n'
    )
    problems, dups = _read(log, "xes")
    dups.resolve(problems, read_records(log, "xes", ProblemList()))
    [record] = list(read_records(log, "xes", ProblemList()))[:1]
    derived = record.fields["id"]
    assert derived.startswith("xes-") and len(derived) == 28
    assert [str(p) for p in problems] == [
        f"log.xes:5: id: duplicate id '{derived}' (first at log.xes:4): {USED_ONCE}; the event has no tom:id, and"
        " this id is derived from its attributes and its trace's name, which are the same as the first's: drop the"
        " repeated event, or give each event a tom:id"
    ]


def test_a_given_id_is_not_said_to_be_derived() -> None:
    assert str(duplicate_id_problem("log.xes:9", "xes-1", "log.xes:4")) == (
        f"log.xes:9: id: duplicate id 'xes-1' (first at log.xes:4): {USED_ONCE}"
    )
