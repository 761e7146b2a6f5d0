"""Soak test of the REST API: `python -m bench soak [--size medium] [--minutes 10] [--rate 50] [--json]`.

Loads a synthetic bundle into scenario `bench-soak-SIZE` (skipped when it already holds it),
starts the API in a second process with a reader key, and drives it **open loop** for
`--minutes`: request i is sent at start + i / rate whether or not earlier answers have come back,
so a slow API meets a growing queue instead of a politely waiting client, and each latency is
measured from the moment its request was due (a late send counts against the API, with no
coordinated omission). The mix is what architects' tools call: dependencies at depth 2, impact,
entity reads, entity listing, findings and the scenario list. Findings are asked for 96 distinct
as-of dates, more than the API's 64-entry findings cache holds, so the cache keeps evicting and
the checks keep running for the whole soak.

The API process's RSS, open file descriptors and threads are sampled every second. Printed:
requests, errors (any status other than 200, or an exception, by route and status), achieved
rate, p50/p95/p99 per route, RSS per minute, and RSS growth from minute 2 (when imports, pools
and caches have warmed up) to the end. Targets: no errors, growth under 10%.

Default size: medium (about 20,000 entities, 92,000 relationships). Its queries return
realistic amounts of data and its check runs take real time, so caches, pools and result buffers
are exercised the way a company's operating model would; `small` would make every query trivial.
`large` would need the 6g Neo4j heap and several minutes to load, and at 50 requests per second
its findings runs alone would saturate a 2-core machine, so the soak would measure overload
rather than whether memory grows under a steady, sustainable load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import aiohttp
import psutil

from bench.api import _ensure_loaded, _percentiles, get_status, route_path, served_api
from graph.settings import Settings
from loaders import synth

MIX = (
    ("dependencies", 30),
    ("impact", 15),
    ("entity", 25),
    ("entities", 15),
    ("findings", 5),
    ("scenarios", 10),
)
"""(route, weight) of the requests."""
FINDINGS_DAYS = 96
"""Distinct as-of dates of the findings requests: more than the API's findings cache (64)."""
LIST_KINDS = ("models", "workflows", "roles", "data_domains", "vendors", "use_cases", "people", "units")
TARGET_GROWTH_PCT = 10.0
WARM_MINUTES = 2


def _path(rng: random.Random, route: str, scenario: str, ids: dict[str, list[str]]) -> str:
    shared = route_path(rng, route, scenario, ids)
    if shared is not None:
        return shared
    if route == "entities":
        return f"/scenarios/{scenario}/entities?kind={rng.choice(LIST_KINDS)}&limit=100"
    if route == "findings":
        day = synth.AS_OF - timedelta(days=rng.randrange(FINDINGS_DAYS))
        return f"/scenarios/{scenario}/findings?severity=high&as_of={day.isoformat()}"
    return "/scenarios"


@dataclass
class Sample:
    second: float
    rss: int
    fds: int
    threads: int


class Sampler(threading.Thread):
    """The process's RSS, open file descriptors and threads, once a second."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.samples: list[Sample] = []
        self.started = time.monotonic()
        self.stop = threading.Event()

    def run(self) -> None:
        tick = 0
        while not self.stop.is_set():
            try:
                with self.process.oneshot():
                    sample = Sample(
                        time.monotonic() - self.started,
                        self.process.memory_info().rss,
                        self.process.num_fds(),
                        self.process.num_threads(),
                    )
            except psutil.Error:
                return
            self.samples.append(sample)
            tick += 1
            self.stop.wait(max(0.0, self.started + tick - time.monotonic()))

    def at(self, second: float) -> Sample | None:
        """The first sample taken at or after `second`."""
        return next((s for s in self.samples if s.second >= second), None)


@dataclass
class Drive:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    per_minute: Counter[int] = field(default_factory=Counter)
    errors_per_minute: Counter[int] = field(default_factory=Counter)
    max_send_lag: float = 0.0
    sent: int = 0
    seconds: float = 0.0


async def _drive(base: str, key: str, scenario: str, ids: dict[str, list[str]], rate: float, seconds: float) -> Drive:
    """Open loop: request i is sent at start + i / rate, each in its own task."""
    drive = Drive()
    rng = random.Random(0)
    routes, weights = [r for r, _ in MIX], [w for _, w in MIX]
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=0)  # no client-side queue: every due request is sent
    timeout = aiohttp.ClientTimeout(total=30)
    headers = {"Authorization": f"Bearer {key}"}
    tasks: set[asyncio.Task[None]] = set()

    async def one(route: str, path: str, due: float) -> None:
        status = await get_status(client, path)
        done = loop.time()
        drive.latencies[route].append(done - due)
        minute = int((due - start) // 60)
        drive.per_minute[minute] += 1
        if status != "200":
            drive.errors[f"{route} {status}"] += 1
            drive.errors_per_minute[minute] += 1

    async with aiohttp.ClientSession(base, headers=headers, connector=connector, timeout=timeout) as client:
        start = loop.time()
        total = int(seconds * rate)
        for i in range(total):
            due = start + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            drive.max_send_lag = max(drive.max_send_lag, loop.time() - due)
            route = rng.choices(routes, weights)[0]
            task = asyncio.create_task(one(route, _path(rng, route, scenario, ids), due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            drive.sent += 1
        await asyncio.gather(*tasks)
        drive.seconds = loop.time() - start
    return drive


def _mb(sample: Sample | None) -> float | None:
    return round(sample.rss / 2**20, 1) if sample else None


def run(size: str, minutes: float, rate: float) -> dict[str, Any]:
    settings = Settings()
    scenario = f"bench-soak-{size}"
    entities, ids = _ensure_loaded(settings, size, scenario)
    seconds = minutes * 60
    with served_api("soak") as (base, key, server):
        sampler = Sampler(server.pid)
        sampler.start()
        drive = asyncio.run(_drive(base, key, scenario, ids, rate, seconds))
        sampler.stop.set()
        sampler.join()
        api_exit = server.poll()

    warm = sampler.at(WARM_MINUTES * 60)
    end = sampler.samples[-1]
    growth = round((end.rss - warm.rss) * 100 / warm.rss, 1) if warm else None
    total = sum(len(v) for v in drive.latencies.values())
    errors = sum(drive.errors.values())
    per_minute = [
        {
            "minute": m + 1,
            "rss_mb": _mb(sampler.at((m + 1) * 60) or end),
            "requests": drive.per_minute[m],
            "errors": drive.errors_per_minute[m],
        }
        for m in range(int(-(-seconds // 60)))
    ]
    return {
        "date": date.today().isoformat(),
        "size": size,
        "entities": entities,
        "minutes": minutes,
        "target_rate": rate,
        "seconds": round(drive.seconds, 1),
        "requests": total,
        "achieved_rate": round(total / drive.seconds, 2),
        "max_send_lag_ms": round(drive.max_send_lag * 1000, 1),
        "errors": errors,
        "error_statuses": dict(sorted(drive.errors.items())),
        "routes": {route: _percentiles(samples) for route, samples in sorted(drive.latencies.items())},
        "rss_mb_start": _mb(sampler.samples[0]),
        "rss_mb_minute_2": _mb(warm),
        "rss_mb_end": _mb(end),
        "rss_growth_pct": growth,
        "rss_mb_peak": round(max(s.rss for s in sampler.samples) / 2**20, 1),
        "fds_minute_2_end": [warm.fds if warm else None, end.fds],
        "threads_minute_2_end": [warm.threads if warm else None, end.threads],
        "per_minute": per_minute,
        "api_exited_during_soak": api_exit is not None,
        "targets_met": errors == 0 and growth is not None and growth < TARGET_GROWTH_PCT and api_exit is None,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench soak")
    parser.add_argument("--size", choices=("small", "medium"), default="medium")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second, sent on schedule")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = run(args.size, args.minutes, args.rate)
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(
        f"{result['requests']} requests in {result['seconds']} s ({result['achieved_rate']}/s of "
        f"{result['target_rate']}/s), {result['errors']} errors {result['error_statuses'] or ''}"
    )
    print(
        f"API RSS {result['rss_mb_minute_2']} MB at minute {WARM_MINUTES}, {result['rss_mb_end']} MB at the end: "
        f"{result['rss_growth_pct']}% (target < {TARGET_GROWTH_PCT}%); targets met: {result['targets_met']}"
    )
    for route, stats in result["routes"].items():
        print(f"  {route:<13} {stats}")
    for minute in result["per_minute"]:
        print(
            f"  minute {minute['minute']:>3}: {minute['rss_mb']} MB, "
            f"{minute['requests']} requests, {minute['errors']} errors"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
