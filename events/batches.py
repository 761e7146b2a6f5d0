"""Reading and checking an event log in batches, in this process or in several (events.md,
"Loading"; docs/benchmarks.md, "Event logs").

A load reads a log as `Checked` batches: each event of a batch validated (`validate_record`),
with the problems found in the log's order and each valid event's fields that the checks across
the whole log need (`events.store.read_log`: duplicate ids, requests, stored ids), and the
batch's valid events as `CREATE_EVENTS` takes them, pickled once.

Validation costs more than reading, so a large CSV or JSON Lines log (`PARALLEL_MIN_BYTES` and
up) is validated by `workers()` processes: this process cuts the log's text into chunks of whole
rows or lines (`split_csv`, `split_jsonl`), the workers read and check the chunks, and the
results come back in the log's order, so that every problem keeps its place whichever way the
log was read (tests/events/test_batches.py compares the two). JSON, OCEL and XES logs, and
small ones, are read here.
"""

from __future__ import annotations

import csv
import io
import os
import pickle
import signal
import sys
import threading
import time
import types
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

from events.forms import (
    CsvColumns,
    CsvLines,
    _lines,
    csv_header,
    csv_records,
    csv_rows,
    not_utf8,
    open_text,
    read_jsonl,
    read_records,
)
from events.records import EventRow, RawRecord, validate_record
from loaders.problems import ProblemList

BATCH_SIZE = 10_000
"""Events a batch holds (rows or lines of the log, valid or not)."""
PARALLEL_MIN_BYTES = 16 << 20
"""A CSV or JSON Lines log this large or larger is validated in worker processes (about 160,000
events); a smaller one in this process, where starting the workers would cost more than it saves."""
PARALLEL_FORMS = ("csv", "jsonl")
IN_FLIGHT_PER_WORKER = 2
"""Chunks sent ahead to each worker; at most this many per worker are held in memory at once."""

ValidEvent = tuple[int, str, str, str, str, str, str | None]
"""(problems before it in its batch, place, id, digest, activity, object, request)."""


@dataclass
class Checked:
    """One batch of a log, checked: `read` events, the `problems` found in it in the log's order
    (at most `MAX_PROBLEMS`, the rest counted in their `omitted`), its valid `events` (each with
    the number of the batch's problems that come before it), and `wire`, the valid events
    pickled as a list of `wire_row`s in the same order."""

    read: int = 0
    problems: ProblemList = field(default_factory=ProblemList)
    events: list[ValidEvent] = field(default_factory=list)
    wire: bytes = b""

    def wire_rows(self) -> list[dict[str, Any]]:
        return pickle.loads(self.wire) if self.wire else []


def wire_row(row: EventRow, scenario: str) -> dict[str, Any]:
    """A valid event (`events.records.validate_record`) as `CREATE_EVENTS` takes it: its stored
    properties with `scenario`, the time as ISO 8601 text with its offset, and no `day` (Neo4j
    derives it from the time)."""
    wire = {k: v for k, v in row.props.items() if k != "day"}
    wire["time"] = row.time_text
    wire["scenario"] = scenario
    return wire


def check_records(records: Iterable[RawRecord], problems: ProblemList, scenario: str) -> Checked:
    """Validate `records` into one `Checked` batch. `problems` holds what the reader found so far
    in this batch, and goes on collecting while it reads: it becomes the batch's problems."""
    checked = Checked(problems=problems)
    events = checked.events
    wire = []
    read = 0
    for record in records:
        read += 1
        row, found = validate_record(record)
        if found or row is None:
            problems.extend(found)
            continue
        props = row.props
        events.append(
            (len(problems), record.place, row.id, row.digest, props["activity"], props["object"], props["request"])
        )
        wire.append(wire_row(row, scenario))
    checked.read = read
    checked.wire = pickle.dumps(wire, protocol=pickle.HIGHEST_PROTOCOL) if wire else b""
    return checked


def check_chunk(
    form: str, name: str, text: str, first: int, scenario: str, header: tuple[int, CsvColumns] | None
) -> Checked:
    """A worker's task: read and check one chunk of a CSV or JSON Lines log, `text` (whole rows
    or lines), whose first row or line is number `first` of the file named `name`; a CSV chunk
    is read under the log's `header` (`csv_header`)."""
    problems = ProblemList()
    stream = io.StringIO(text, newline="")  # lines end as in the file, as the splitter read them
    if form == "csv":
        assert header is not None
        reader = csv.reader(stream, strict=True)
        records: Iterable[RawRecord] = csv_records(
            csv_rows(reader, name, problems, lambda: first - 2), name, problems, *header
        )
    else:
        records = read_jsonl(stream, name, problems, first - 1)
    return check_records(records, problems, scenario)


T = TypeVar("T")
Chunk = tuple[str, int]
"""A chunk of a log's text (whole rows or lines) and the number of its first row or line."""


def split_csv(path: Path, problems: ProblemList) -> tuple[tuple[int, CsvColumns] | None, Iterator[Chunk | ProblemList]]:
    """A CSV log's header (None: the log cannot be read; `problems` says why) and its rows after
    it as chunks of at most `BATCH_SIZE` rows, with the problems found in cutting them (rows
    too long, a malformed row) yielded in their place between the chunks. Rows are found by the
    csv module itself, so a quoted value over several lines stays in one chunk."""
    stream = open_text(path)
    lines = CsvLines(stream, path.name, problems, keep=True)
    reader = csv.reader(lines, strict=True)
    try:
        header = csv_header(reader, path.name, problems)
    except UnicodeDecodeError as e:
        problems.append(not_utf8(path, e))
        header = None
    if header is None:
        stream.close()
        return None, iter(())

    def chunks() -> Iterator[Chunk | ProblemList]:
        kept = lines.kept
        assert kept is not None
        kept.clear()
        header_skipped = lines.skipped
        seen = len(problems)
        first = None  # the chunk's first row number
        at_skipped = 0  # lines.skipped at the chunk's start
        count = 0
        end = 0  # lines of `kept` up to the last row's end
        rows = csv_rows(reader, path.name, problems, lambda: lines.skipped - header_skipped)
        with stream:
            for number, _cells in _decodable(rows, path, problems):
                if first is not None and (count >= BATCH_SIZE or lines.skipped != at_skipped or len(problems) != seen):
                    yield "".join(kept[:end]), first
                    del kept[:end]
                    first = None
                if len(problems) != seen:
                    yield ProblemList(problems[seen:])
                    seen = len(problems)
                if first is None:
                    first, at_skipped, count = number, lines.skipped, 0
                count += 1
                end = len(kept)
            if first is not None:
                yield "".join(kept[:end]), first
            if len(problems) != seen:
                yield ProblemList(problems[seen:])

    return header, chunks()


def _decodable(items: Iterator[T], path: Path, problems: ProblemList) -> Iterator[T]:
    """`items` read from the log at `path` up to the first text that is not UTF-8, which ends
    them with its problem (as `read_records` does: what came before it is still checked)."""
    try:
        yield from items
    except UnicodeDecodeError as e:
        problems.append(not_utf8(path, e))


def split_jsonl(path: Path, problems: ProblemList) -> Iterator[Chunk | ProblemList]:
    """A JSON Lines log as chunks of at most `BATCH_SIZE` lines, with the lines too long to
    read yielded as problems in their place between the chunks."""
    with open_text(path) as stream:
        kept: list[str] = []
        first = 0
        seen = 0
        for number, line in _decodable(_lines(stream, path.name, problems), path, problems):
            if kept and (len(kept) >= BATCH_SIZE or len(problems) != seen or number != first + len(kept)):
                yield "".join(kept), first
                kept = []
            if len(problems) != seen:
                yield ProblemList(problems[seen:])
                seen = len(problems)
            if not kept:
                first = number
            kept.append(line)
        if kept:
            yield "".join(kept), first
        if len(problems) != seen:
            yield ProblemList(problems[seen:])


def workers(setting: int = 0) -> int:
    """Worker processes for a large log: `setting` (`TOMGRAPH_EVENTS_LOAD_WORKERS`) when not 0;
    else one per core this process may use, at most four, and none on one core (the workers then
    cost more than they save). On two cores two workers beat one: this process spends much of
    its time waiting for them and for Neo4j (docs/benchmarks.md, "Event logs")."""
    if setting:
        return setting
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return 0 if cores < 2 else min(4, cores)


def checked_batches(
    path: Path,
    form: str,
    scenario: str,
    known: set[str] | None = None,
    *,
    parallel: bool | None = None,
    processes: int = 0,
) -> Iterator[Checked]:
    """The log at `path` in `form` as `Checked` batches, in the log's order. The problems that
    make parts of it unreadable are in the batch where they occur. `parallel`: validate in
    `workers(processes)` worker processes (None: when the form allows it, the log is
    `PARALLEL_MIN_BYTES` or larger and there is more than one core)."""
    count = workers(processes)
    if parallel is None:
        parallel = form in PARALLEL_FORMS and count > 0 and path.stat().st_size >= PARALLEL_MIN_BYTES
    if parallel and form in PARALLEL_FORMS:
        yield from _in_workers(path, form, scenario, max(count, 1))
        return
    problems = ProblemList()
    records = read_records(path, form, problems, known)
    while True:
        batch = check_records(islice(records, BATCH_SIZE), problems, scenario)
        batch.problems = ProblemList(problems)  # the reader goes on appending to `problems`
        problems.clear()
        problems.omitted = 0
        if batch.read or batch.problems:
            yield batch
        if batch.read < BATCH_SIZE:
            return


def _in_workers(path: Path, form: str, scenario: str, count: int) -> Iterator[Checked]:
    name = path.name
    problems = ProblemList()
    header = None
    if form == "csv":
        header, parts = split_csv(path, problems)
        if header is None:
            yield Checked(problems=problems)
            return
    else:
        parts = split_jsonl(path, problems)
    head = ProblemList(problems)
    if head:
        yield Checked(problems=head)
    pending: deque[Future[Checked] | Checked] = deque()
    pool = worker_pool(count)
    finished = False
    try:
        for part in parts:
            if isinstance(part, ProblemList):
                pending.append(Checked(problems=part))
            else:
                with _quiet_start():  # the first submits start the workers
                    pending.append(pool.submit(check_chunk, form, name, part[0], part[1], scenario, header))
            while len(pending) > IN_FLIGHT_PER_WORKER * count:
                yield _result(pending.popleft())
        while pending:
            yield _result(pending.popleft())
        finished = True
    except BrokenProcessPool:
        raise RuntimeError("a worker process checking the event log ended unexpectedly; nothing was stored") from None
    finally:
        # Stopped early (a problem, Ctrl-C): the chunks not started are dropped, and the workers
        # end after the one each is checking (a fraction of a second), without being waited for.
        pool.shutdown(wait=finished, cancel_futures=True)


def worker_pool(count: int) -> ProcessPoolExecutor:
    """`count` worker processes, started afresh (``spawn``: never a fork of a process running
    threads); each ignores Ctrl-C (the loading process handles it and stops them) and ends by
    itself when the loading process is gone, however it ended (`_worker_start`)."""
    return ProcessPoolExecutor(
        max_workers=count, mp_context=get_context("spawn"), initializer=_worker_start, initargs=(os.getpid(),)
    )


@contextmanager
def _quiet_start() -> Iterator[None]:
    """While worker processes may be started: they start with Ctrl-C ignored (a signal ignored
    is inherited; `_worker_start` ignores it too, but only once the worker has started), and
    without importing the loading program's main module (``spawn`` imports it in every worker;
    the CLI's would import all of tomgraph and the Neo4j driver, for nothing). Ctrl-C is ignored
    meanwhile in this process too, for the milliseconds a start takes; only in the main thread,
    the only one that may set a signal's handler (in the API, loads run in other threads)."""
    main = sys.modules.get("__main__")
    in_main_thread = threading.current_thread() is threading.main_thread()
    before = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main_thread else None
    sys.modules["__main__"] = types.ModuleType("__main__")  # nothing for a worker to import
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main
        if in_main_thread:
            signal.signal(signal.SIGINT, before)


def _worker_start(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)  # the loading process was killed: nobody will read this worker's results

    threading.Thread(target=watch, name="tomgraph-parent-watch", daemon=True).start()


def _result(item: Future[Checked] | Checked) -> Checked:
    return item.result() if isinstance(item, Future) else item


__all__ = ["BATCH_SIZE", "Checked", "check_records", "checked_batches", "wire_row", "workers"]
