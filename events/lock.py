"""The event-load lock: one load of events into a scenario at a time (docs/events.md, "Loading").

A load holds a write lock on the scenario's `(:EventLoadLock {scenario})` node (unique by
scenario, constraint `event_load_lock_scenario` in graph/schema.py) from before its log is read
and checked until its last write has ended. The lock is Neo4j's own: an explicit transaction,
in a session of its own, takes it (``MERGE ... SET``) and stays open, idle, for the whole load;
the load's reads and writes run in other transactions. It is committed (recording `holder` and
`since` on the node) when the load succeeds, and rolled back when it fails. If the process dies,
its connection drops and Neo4j ends the transaction: a lock is never left behind.

A second load into the same scenario waits on Neo4j's lock, at most `wait_s` seconds
(`TOMGRAPH_EVENTS_LOAD_WAIT_S`), then fails with `EventLoadBusy` having stored nothing; its
waiting transaction is then terminated (``TERMINATE TRANSACTIONS``), so that it does not take
the lock later. Loads into other scenarios lock other nodes and run side by side. The lock is on
a node of its own, never the `(:Scenario)` node that the load's last statement (MARK_LOADED in
events/store.py) and bundle loads write, so a load never waits on its own lock.

Neo4j ends a transaction older than its `db.transaction.timeout` (default: never), so the lock's
transaction asks for no limit (``timeout=0``, which overrides that setting from Neo4j 5.3 on;
5.0 to 5.2 apply the server's). The ad-hoc query timeout (`TOMGRAPH_QUERY_TIMEOUT_S`) applies to
the query route only, and the local Neo4j (graph/local_neo4j.py) sets no transaction or idle
timeout. Should Neo4j end the lock's transaction all the same, the load goes on unprotected; a
write that then meets an id stored meanwhile is reported by events/store.py.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from neo4j import Session, Transaction
from neo4j.exceptions import DriverError, Neo4jError

from graph.db import UNAVAILABLE_ERRORS, Database
from graph.settings import Settings
from graph.sync import LoadConflict

LOCK_LABEL = "EventLoadLock"
DEFAULT_WAIT_S: float = Settings.model_fields["events_load_wait_s"].default
NOTICE_AFTER_S = 1.0
"""A load still waiting for the lock after this long says so (`waiting`)."""
METADATA_KEY = "tomgraph_event_load_lock"
"""Key of the lock transaction's metadata (`SHOW TRANSACTIONS`): the scenario's name."""

TAKE_LOCK = f"MERGE (l:{LOCK_LABEL} {{scenario: $scenario}}) SET l.holder = $token, l.since = datetime()"
MARK_HELD = f"CALL tx.setMetaData({{{METADATA_KEY}: $scenario, token: $token, held_since: toString(datetime())}})"
"""Once the lock is taken, its transaction says since when (read by a load that gives up)."""
HELD_FOR = f"""
SHOW TRANSACTIONS YIELD metaData
WHERE metaData.{METADATA_KEY} = $scenario AND metaData.held_since IS NOT NULL AND metaData.token <> $token
RETURN duration.inSeconds(datetime(metaData.held_since), datetime()).seconds AS seconds
"""
"""How long the load holding the lock has held it (Neo4j's own clock; none when this user may not
see the holder's transaction)."""
TERMINATE_WAITER = f"""
SHOW TRANSACTIONS YIELD transactionId AS id, metaData
WHERE metaData.{METADATA_KEY} = $scenario AND metaData.token = $token AND metaData.held_since IS NULL
TERMINATE TRANSACTIONS id YIELD transactionId
RETURN transactionId
"""

WaitingFn = Callable[[float], None]


class EventLoadBusy(LoadConflict):
    """Another load of events into the scenario held its lock for longer than this one would wait;
    this load stored nothing (a LoadConflict: CLI exit 1, REST 409)."""


class _Holder:
    """The lock's session and transaction, taken in a thread of their own so that the wait for
    Neo4j's lock can be given up; handed to the caller's thread once taken."""

    def __init__(self, db: Database, scenario: str, token: str) -> None:
        self.db = db
        self.scenario = scenario
        self.token = token
        self.session: Session | None = None
        self.tx: Transaction | None = None
        self.error: BaseException | None = None
        self.ended = threading.Event()
        """Set when the attempt has ended: the lock taken, or an error."""
        self.mutex = threading.Lock()
        self.abandoned = False

    def take(self) -> None:
        try:
            self.session = self.db.session()
            metadata = {METADATA_KEY: self.scenario, "token": self.token}
            self.tx = self.session.begin_transaction(metadata=metadata, timeout=0)
            self.tx.run(TAKE_LOCK, scenario=self.scenario, token=self.token).consume()
            self.tx.run(MARK_HELD, scenario=self.scenario, token=self.token).consume()
        except BaseException as e:  # handed to the caller's thread
            self.error = e
        with self.mutex:
            abandoned = self.abandoned
            self.ended.set()
        if abandoned or self.error is not None:
            self.release(commit=False)

    def give_up(self) -> bool:
        """Stop waiting unless the attempt has ended; True if it was given up."""
        with self.mutex:
            if self.ended.is_set():
                return False
            self.abandoned = True
        # Best effort: a waiting transaction that cannot be terminated (a user who may not) ends
        # when it gets the lock, and gives it back at once (`take`).
        with suppress(Neo4jError, DriverError, *UNAVAILABLE_ERRORS):
            self.db.write(TERMINATE_WAITER, {"scenario": self.scenario, "token": self.token})
        return True

    def release(self, *, commit: bool) -> None:
        """End the lock's transaction and session. A failure to end it is no failure of the load:
        Neo4j has ended it already (the connection dropped, or the server's transaction timeout)."""
        tx, session, self.tx, self.session = self.tx, self.session, None, None
        with suppress(Neo4jError, DriverError, *UNAVAILABLE_ERRORS):
            if tx is not None:
                if commit:
                    tx.commit()
                else:
                    tx.rollback()
        with suppress(Neo4jError, DriverError, *UNAVAILABLE_ERRORS):
            if session is not None:
                session.close()


def busy_message(db: Database, scenario: str, token: str, wait_s: float) -> str:
    """Why a load gave up: who holds the lock and for how long (when Neo4j shows it), how long this
    load waited, and what to do."""
    held: list[dict[str, Any]] = []
    with suppress(Neo4jError, DriverError, *UNAVAILABLE_ERRORS):
        held = db.read(HELD_FOR, {"scenario": scenario, "token": token})
    holder = (
        f"has held it for {max(int(r['seconds']) for r in held):,} s" if held else f"did not end within {wait_s:g} s"
    )
    return (
        f"another load of events into scenario '{scenario}' {holder}; this load waited {wait_s:g} s "
        f"(TOMGRAPH_EVENTS_LOAD_WAIT_S) and nothing was stored; try again when it ends"
    )


@contextmanager
def event_load_lock(
    db: Database, scenario: str, wait_s: float = DEFAULT_WAIT_S, *, waiting: WaitingFn | None = None
) -> Iterator[str]:
    """Hold scenario `scenario`'s event-load lock for the body of the ``with``; yields the holder's
    token (stored on the lock node as `holder` when the body succeeds).

    Waits at most `wait_s` seconds for another holder to end; then raises `EventLoadBusy`.
    `waiting(wait_s)` is called once if the lock is not taken within `NOTICE_AFTER_S`. Raises
    DatabaseUnavailable when Neo4j cannot be reached. The lock node must be unique by scenario
    (constraint `event_load_lock_scenario`, graph.schema.EVENT_SCHEMA, applied by apply_schema as
    every entry point does): without it two first loads could each create a lock node of their own.
    """
    token = uuid.uuid4().hex
    holder = _Holder(db, scenario, token)
    threading.Thread(target=holder.take, name=f"event-load-lock-{scenario}", daemon=True).start()
    try:
        if not holder.ended.wait(min(NOTICE_AFTER_S, wait_s)):
            if waiting is not None and wait_s > NOTICE_AFTER_S:
                waiting(wait_s)
            holder.ended.wait(max(wait_s - NOTICE_AFTER_S, 0.0))
        gave_up = holder.give_up()
    except BaseException:  # interrupted while waiting (Ctrl-C): never take the lock afterwards
        if not holder.give_up():
            holder.release(commit=False)
        raise
    if gave_up:
        raise EventLoadBusy(busy_message(db, scenario, token, wait_s))
    if holder.error is not None:
        with db.errors():
            raise holder.error
    try:
        yield token
    except BaseException:
        holder.release(commit=False)
        raise
    holder.release(commit=True)
