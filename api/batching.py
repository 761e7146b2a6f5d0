"""Coalescing concurrent reads: requests for the same one-row query share one UNWIND query, one
transaction and one round trip.

Most of what a read costs the API is the driver's per-query Python (session, messages, socket
reads: about 0.6 ms even for `RETURN 1`), not Neo4j's work, and the API runs on one event loop.
Under load, the dependency, impact and entity routes are called many times at once; sending the
waiting requests as one query pays the per-query cost once per batch instead of once per request.

How requests are grouped ("natural batching"): at most MAX_IN_FLIGHT batches run at a time, and
at most MAX_IN_FLIGHT_PER_QUERY of one query. A request that finds a free slot goes out at the
end of the current turn of the event loop (with whatever else asked in that turn), so a lone
request never waits. Requests that arrive while the slots are busy queue up, and go out
together as soon as a slot frees. The busier the API,
the larger the batches; nothing ever waits for a batch to fill.

Each request's answer is exactly what its own query returns: the batched form runs the same
Cypher once per request inside `CALL { WITH tg_req ... }`, with the request's parameters read
from `tg_req` instead of `$`-parameters. The requests of one batch read the same snapshot.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any

from graph.db import DatabaseUnavailable

MAX_BATCH = 64
"""Requests in one query at most."""

MAX_IN_FLIGHT = 3
"""Batches running at once, over all queries."""

MAX_IN_FLIGHT_PER_QUERY = 2
"""Batches of one query running at once. Two keep both of Neo4j's threads busy on a small machine
while the next batch gathers, and one query can never take every slot: a burst of slow impact
reads leaves a slot for entity reads. Measured on `large` (docs/benchmarks.md): limits from
(1 per query, 4 in all) to (2, 4) give the same rate within the machine's noise, except that
one batch per query serialises the busiest route (dependencies) and raises its p50; more slots
give smaller batches and more CPU per request; no limit at all gives batches of 1.5 and is
slower than no batching."""

_VARIABLE = "tg_req"
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_WITH = re.compile(r"(?<!STARTS )(?<!ENDS )\bWITH\b", re.IGNORECASE)
_INDEX = "tg_i"
_UNSUPPORTED = re.compile(rf"\bWITH\s+(DISTINCT\b|\*)|\b(LIMIT|SKIP)\s+\$|\b({_VARIABLE}|{_INDEX})\b", re.IGNORECASE)

Pending = tuple[dict[str, Any], "asyncio.Future[dict[str, Any]]"]
RunRows = Callable[[str, dict[str, Any]], Awaitable[list[dict[str, Any]]]]


@cache
def batched_query(cypher: str) -> str:
    """`cypher`, a query that returns exactly one row, run once for each map in `$batch`.

    Its `$name` parameters become `tg_req.name`, every `WITH` carries `tg_req` along, and each
    row comes back with `tg_i`, the index of its request in the batch (`tg_req.tg_i`). Only for
    our own query templates, which never have `$` or `WITH` inside string literals.
    """
    if _UNSUPPORTED.search(cypher):
        # LIMIT and SKIP take parameters, never variables.
        raise ValueError(f"cannot batch a query with WITH DISTINCT, WITH *, LIMIT $p, SKIP $p, {_VARIABLE} or {_INDEX}")
    inner = _WITH.sub(f"WITH {_VARIABLE},", _PARAM.sub(rf"{_VARIABLE}.\1", cypher.strip()))
    return (
        f"UNWIND $batch AS {_VARIABLE}\nCALL {{\nWITH {_VARIABLE}\n{inner}\n}}\n"
        f"RETURN *, {_VARIABLE}.{_INDEX} AS {_INDEX}"
    )


class ReadBatcher:
    """Queues one-row reads by query text and sends each queue as batched queries."""

    def __init__(self, run_rows: RunRows) -> None:
        self._run_rows = run_rows
        self._queues: dict[str, list[Pending]] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._running_by_query: dict[str, int] = {}
        self._flush_scheduled = False
        self.batches = 0
        """Batched queries sent (for tests and benchmarks)."""
        self.requests = 0
        """Requests answered by them."""

    async def one_row(self, cypher: str, params: dict[str, Any]) -> dict[str, Any]:
        """The single row `cypher` returns for `params`."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._queues.setdefault(cypher, []).append((params, future))
        if not self._flush_scheduled and self._has_slot(cypher):
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _has_slot(self, cypher: str) -> bool:
        return len(self._running) < MAX_IN_FLIGHT and self._running_by_query.get(cypher, 0) < MAX_IN_FLIGHT_PER_QUERY

    def _flush(self) -> None:
        """Start batches while there are free slots and waiting requests, oldest queue first."""
        self._flush_scheduled = False
        while True:
            cypher = next((c for c in self._queues if self._has_slot(c)), None)
            if cypher is None:
                return
            # Requests whose caller went away (a cancelled request) are dropped here.
            waiting = [p for p in self._queues.pop(cypher) if not p[1].done()]
            if len(waiting) > MAX_BATCH:
                self._queues[cypher] = waiting[MAX_BATCH:]
                waiting = waiting[:MAX_BATCH]
            if waiting:
                task = asyncio.get_running_loop().create_task(self._send(cypher, waiting))
                self._running.add(task)
                self._running_by_query[cypher] = self._running_by_query.get(cypher, 0) + 1
                task.add_done_callback(functools.partial(self._finished, cypher))

    def _finished(self, cypher: str, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._running_by_query[cypher] -= 1
        if not self._running_by_query[cypher]:
            del self._running_by_query[cypher]
        self._flush()

    async def _send(self, cypher: str, batch: list[Pending]) -> None:
        self.batches += 1
        self.requests += len(batch)
        try:
            rows = await self._run_rows(
                batched_query(cypher), {"batch": [{**params, _INDEX: i} for i, (params, _) in enumerate(batch)]}
            )
        except DatabaseUnavailable as e:
            for _, future in batch:
                if not future.done():
                    # One exception object per request: each request raises and logs its own.
                    future.set_exception(DatabaseUnavailable(str(e)))
            return
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as e:
            for _, future in batch:
                if not future.done():
                    future.set_exception(e)
            return
        by_index = {row.pop(_INDEX): row for row in rows}
        for i, (_, future) in enumerate(batch):
            row = by_index.get(i)
            if future.done():
                continue
            if row is None:
                future.set_exception(RuntimeError(f"a batched read returned no row for request {i} of {len(batch)}"))
            else:
                row.pop(_VARIABLE, None)
                future.set_result(row)

    async def close(self) -> None:
        """Wait for the batches in flight: their requests are waiting for them."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
