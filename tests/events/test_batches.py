"""A large CSV or JSON Lines log is checked in worker processes (events.batches): the batches,
problems (in the log's order, with their places), events and rows to write must be exactly those
of the same log checked in this process."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from events import batches
from events.batches import Checked, checked_batches
from events.forms import MAX_LINE_CHARS
from events.store import load_events
from graph.db import Database
from tests.events.test_load import _fixture, _load_bundle

GOOD = "2026-11-02T10:00:00Z"


def _csv_log(path: Path) -> Path:
    """A CSV log with something wrong in most places a chunk could be cut: blank rows, a value
    over several lines, a row too long to read, rows with problems, duplicate ids, properties."""
    rows = ["id,time,activity,object,actor,request,properties.note,properties.n"]
    for n in range(1, 40):
        rows.append(f"e-{n},{GOOD},change_requested,m-{n % 3},p-{n % 5},,note {n},{n}")
    rows[5] = f"e-5,{GOOD},change_approved,m-2,p-1,e-4,,"  # answers a request on another object
    rows[7] = ""  # blank
    rows[8] = "  ,  ,,"  # blank cells only
    rows[11] = f'e-11,{GOOD},deployed,m-1,p-1,,"a note\nover two lines",3'
    rows[14] = f"e-14,{GOOD},deployed,m-1,p-1,,,,extra"  # too many cells
    rows[17] = f"e-3,{GOOD},deployed,m-1,p-1,,,"  # a duplicate id
    rows[20] = "x" * (MAX_LINE_CHARS + 10)  # too long to read
    rows[23] = "e-23,not a time,flown,m-1,,,,"
    rows.append(f'e-99,{GOOD},deployed,m-1,p-1,,"unclosed')  # malformed: ends the read
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _jsonl_log(path: Path) -> Path:
    lines = []
    for n in range(1, 30):
        lines.append(f'{{"id": "e-{n}", "time": "{GOOD}", "activity": "deployed", "object": "m-1", "actor": "p-{n}"}}')
    lines[3] = ""
    lines[6] = "{not json"
    lines[9] = '{"id": "e-2", "time": "' + GOOD + '", "activity": "deployed", "object": "m-1", "actor": "p"}'
    lines[12] = " " * (MAX_LINE_CHARS + 5)
    lines[15] = '{"id": "e-16", "time": "2026-11-02T10:00:00", "activity": "deployed", "object": "m-1"}'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _summary(parts: list[Checked]) -> tuple[list[str], int, int, list[object], list[object]]:
    problems = [str(p) for part in parts for p in part.problems]
    omitted = sum(part.problems.omitted for part in parts)
    read = sum(part.read for part in parts)
    # each event with the problems before it in the whole log, not only in its batch
    events: list[object] = []
    before = 0
    for part in parts:
        events += [(before + mark, *rest) for mark, *rest in part.events]
        before += len(part.problems)
    rows = [row for part in parts for row in part.wire_rows()]
    return problems, omitted, read, events, rows


@pytest.mark.parametrize("form", ["csv", "jsonl"])
def test_a_log_checked_in_workers_gives_exactly_what_it_gives_checked_here(
    form: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batches, "BATCH_SIZE", 4)
    path = _csv_log(tmp_path / "log.csv") if form == "csv" else _jsonl_log(tmp_path / "log.jsonl")
    here = list(checked_batches(path, form, "s", parallel=False))
    in_workers = list(checked_batches(path, form, "s", parallel=True))
    assert _summary(in_workers) == _summary(here)
    assert len(in_workers) > 5  # it was cut into many chunks


def test_the_problems_of_a_csv_log_checked_in_workers_are_those_of_each_row_in_its_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batches, "BATCH_SIZE", 4)
    problems, omitted, read, events, _ = _summary(
        list(checked_batches(_csv_log(tmp_path / "log.csv"), "csv", "s", parallel=True))
    )
    assert problems == [
        "log.csv:row 15: csv: 9 cells but 8 columns in the header",
        f"log.csv:22: line: longer than {MAX_LINE_CHARS:,} characters",  # its line: the value over two lines
        "log.csv:row 24: time: 'not a time' is not a time written YYYY-MM-DDTHH:MM[:SS[.ffffff]] with Z or a"
        " UTC offset ±HH:MM (e.g. 2026-03-02T09:15:00+01:00)",
        "log.csv:row 24: activity: unknown activity 'flown' (known: "
        "change_requested, change_approved, change_rejected, change_deployed, deployment_requested, "
        "deployment_approved, deployed, shutdown, access_requested, access_granted, access_denied, "
        "access_revoked, review_completed, stage_changed, incident_opened, incident_reported, escalated)",
        "log.csv:row 24: actor: required field missing",
        "log.csv:row 41: csv: malformed row: unexpected end of data",
    ]
    assert (omitted, read) == (0, 35)
    # rows are numbered as rows (the header is row 1), blank ones too, and a value over two lines
    # is one row
    assert [place for _, place, *_ in events][5:9] == [
        "log.csv:row 7",
        "log.csv:row 10",
        "log.csv:row 11",
        "log.csv:row 12",
    ]
    assert [place for _, place, *_ in events][15:18] == ["log.csv:row 20", "log.csv:row 22", "log.csv:row 23"]


def test_a_large_log_loaded_through_workers_stores_what_a_small_one_does(
    db: Database, scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle, events = _fixture()
    _load_bundle(db, scenario, tmp_path, bundle)
    from tests.events.forms import write_form

    path = write_form("csv", events, tmp_path)
    monkeypatch.setattr(batches, "BATCH_SIZE", 3)
    monkeypatch.setattr(batches, "PARALLEL_MIN_BYTES", 0)
    in_workers = batches._in_workers
    used: list[int] = []

    def counted(*args: object) -> object:
        used.append(args[-1])  # type: ignore[arg-type]
        return in_workers(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(batches, "_in_workers", counted)
    result = load_events(db, path, scenario, workers=2)
    assert used == [2]
    assert (result.read, result.added, result.event_count) == (len(events), len(events), len(events))
    stored = db.read(
        "MATCH (e:Event {scenario: $s}) RETURN e.id AS id, e.digest AS digest ORDER BY id", {"s": scenario}
    )
    monkeypatch.setattr(batches, "PARALLEL_MIN_BYTES", 1 << 40)
    again = load_events(db, path, scenario)
    assert (again.added, again.unchanged) == (0, len(events))  # the same digests as read here
    assert len(stored) == len(events)


def _both_ways(path: Path, form: str) -> list[str]:
    """The problems of `path` read here; asserting they are those read in workers."""
    here = _summary(list(checked_batches(path, form, "s", parallel=False)))
    assert _summary(list(checked_batches(path, form, "s", parallel=True))) == here
    return here[0]


ROW = f"{GOOD},deployed,m-1,p-1"


@pytest.mark.parametrize("form", ["csv", "jsonl"])
def test_a_log_with_bytes_that_are_not_utf8_is_refused_at_their_line_in_workers_as_here(
    form: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batches, "BATCH_SIZE", 3)
    if form == "csv":
        lines = [b"id,time,activity,object,actor"] + [f"e-{n},{ROW}".encode() for n in range(1, 20000)]
        lines[4] = b"e-4,not a time,deployed,m-1,p-1"
    else:
        event = '{{"id": "e-{n}", "time": "' + GOOD + '", "activity": "deployed", "object": "m-1", "actor": "p"}}'
        lines = [event.format(n=n).encode() for n in range(20000)]
        lines[4] = b'{"id": "e-4"}'
    lines[15000] = lines[15000].replace(b"m-1", b"m-\xff")
    path = tmp_path / f"log.{form}"
    path.write_bytes(b"\n".join(lines) + b"\n")
    problems = _both_ways(path, form)
    assert problems[-1] == f"log.{form}:15001: file: not UTF-8 text (invalid start byte)"
    assert problems[0].startswith(f"log.{form}:{'row ' if form == 'csv' else ''}5: time: ")


@pytest.mark.parametrize("end", ["\r", "\n", "\r\n"])
def test_lines_too_long_are_skipped_alone_and_lines_just_long_enough_are_read_whatever_their_ends(
    end: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batches, "BATCH_SIZE", 2)
    exact = f"e-1,{ROW},"
    exact += "x" * (MAX_LINE_CHARS - len(exact))  # a property cell as long as a line may be
    rows = ["id,time,activity,object,actor,properties.note", exact, "y" * (MAX_LINE_CHARS + 1)]
    rows += [f"e-3,{ROW},", "e-4,not a time,deployed,m-1,p-1,"]
    path = tmp_path / "log.csv"
    path.write_text(end.join(rows) + end, encoding="utf-8", newline="")
    problems = _both_ways(path, "csv")
    assert problems == [
        "log.csv:row 2: properties.note: longer than 512 characters",  # read whole: its cell too
        f"log.csv:3: line: longer than {MAX_LINE_CHARS:,} characters",
        "log.csv:row 5: time: 'not a time' is not a time written YYYY-MM-DDTHH:MM[:SS[.ffffff]] with Z or a"
        " UTC offset ±HH:MM (e.g. 2026-03-02T09:15:00+01:00)",
    ]


def test_a_worker_ends_by_itself_when_the_loading_process_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(
        "import os, sys\n"
        "from events.batches import worker_pool\n"
        "if __name__ == '__main__':\n"
        "    pool = worker_pool(1)\n"
        "    print(pool.submit(os.getpid).result(), flush=True)\n"
        "    os._exit(0)  # as if killed: no clean-up, the pool never shut down\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[2]
    )
    worker = int(done.stdout.strip())
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has ended
