"""Load on the REST API: `python -m bench api [--size large] [--clients 32] [--seconds 60] --json`.

Loads a synthetic bundle (skipped when the scenario already holds it), starts the API in a
second process, drives it with `--clients` concurrent aiohttp clients for `--seconds` (a mix of
dependencies at depth 2, impact, entity reads and findings), then runs the same dependency
query through the bare async driver at the same concurrency. Prints req/s, p50/p95/p99 per
route, errors, the API's peak RSS and the API/driver latency ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psutil
from neo4j import READ_ACCESS, AsyncGraphDatabase

from api.auth import KEYS_FILE_ENV, Role, create_key
from api.graph_reads import dependencies_query
from graph.db import Database, connection_for
from graph.history import physical_name
from graph.ontology import kinds_by_section
from graph.schema import apply_schema
from graph.settings import Settings
from loaders import synth

MIX = (("dependencies", 45), ("impact", 20), ("entity", 30), ("findings", 5))
"""(route, weight): what architects' tools call most, and the expensive findings run rarely."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"n": len(ordered), "p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99)}


def _ensure_loaded(
    settings: Settings, size: str, scenario: str, bundle_file: Path | None = None
) -> tuple[int, dict[str, list[str]]]:
    """Load the synthetic bundle (or `bundle_file`) unless the scenario already has it; ids to
    query, by kind."""
    with Database.from_settings(settings) as db:
        apply_schema(db)
        bundle = json.loads(bundle_file.read_text()) if bundle_file else synth.generate(size)[0]
        entities, _ = synth.count(bundle)
        loaded = db.read("MATCH (s:Scenario {name: $s}) RETURN s.entity_count AS n", {"s": scenario})
        if not loaded or loaded[0]["n"] != entities:
            from loaders import load_bundle

            if bundle_file is not None:
                load_bundle(db, bundle_file, scenario)
            else:
                with tempfile.TemporaryDirectory() as tmp:
                    synth.write_generated(bundle, {}, Path(tmp))
                    load_bundle(db, Path(tmp) / "bundle.json", scenario)
        ids: dict[str, list[str]] = {}
        for section in ("use_cases", "workflows", "models", "vendors", "data_domains"):
            label = kinds_by_section()[section].label
            rows = db.read(f"MATCH (n:{label} {{scenario: $s}}) RETURN n.id AS id", {"s": physical_name(db, scenario)})
            ids[section] = [r["id"] for r in rows]
    return entities, ids


def _serve(port: int) -> None:
    from api.app import serve

    serve(Settings(), "127.0.0.1", port)


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.Error:
                return
            self.stop.wait(0.1)


def _wait_ready(base: str, server: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise RuntimeError("the API did not become ready")
        time.sleep(0.2)


@contextmanager
def served_api(key_name: str) -> Iterator[tuple[str, str, subprocess.Popen[bytes]]]:
    """The API (`_serve`) in a second process with a reader key of its own, ready to answer:
    (base URL, key, process). Stopped on leaving."""
    with tempfile.TemporaryDirectory() as tmp:
        keys_path = Path(tmp) / "api-keys.json"
        _, key = create_key(keys_path, Role.reader, key_name)
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-c", f"from bench.api import _serve; _serve({port})"],
            env={**os.environ, KEYS_FILE_ENV: str(keys_path)},
            stdin=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(base, server)
            yield base, key, server
        finally:
            server.terminate()
            server.wait(timeout=30)


def _cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def route_path(rng: random.Random, route: str, scenario: str, ids: dict[str, list[str]]) -> str | None:
    """A request path for one of the read routes both load benchmarks call (dependencies at
    depth 2, impact, entity), with ids picked by `rng`; None for any other route."""
    if route == "dependencies":
        return f"/scenarios/{scenario}/entities/{rng.choice(ids['use_cases'])}/dependencies?depth=2"
    if route == "impact":
        return f"/scenarios/{scenario}/impact/{rng.choice(ids['vendors'] + ids['data_domains'])}?limit=100"
    if route == "entity":
        return f"/scenarios/{scenario}/entities/{rng.choice(ids['models'] + ids['workflows'])}"
    return None


def _pick(rng: random.Random, scenario: str, ids: dict[str, list[str]]) -> tuple[str, str]:
    route = rng.choices([r for r, _ in MIX], weights=[w for _, w in MIX])[0]
    return route, route_path(rng, route, scenario, ids) or f"/scenarios/{scenario}/findings?severity=critical"


async def get_status(client: aiohttp.ClientSession, path: str) -> str:
    """GET `path` and read the whole answer: its status, or the name of the client error."""
    try:
        async with client.get(path) as response:
            await response.read()
            return str(response.status)
    except (aiohttp.ClientError, TimeoutError) as e:
        return type(e).__name__


async def _drive_api(
    base: str, key: str, scenario: str, ids: dict[str, list[str]], clients: int, seconds: float
) -> tuple[dict[str, list[float]], Counter[str], float]:
    """`clients` closed-loop clients over keep-alive connections for `seconds`.

    aiohttp, not httpx: on a 2-core machine the load generator shares the CPU with the API and
    Neo4j, and httpx's client spent 4.7 ms of CPU per request (more than the API's own work)
    against aiohttp's 0.4 ms, so with httpx the benchmark measured mostly itself.
    """
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: Counter[str] = Counter()
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=30)
    headers = {"Authorization": f"Bearer {key}"}

    async with aiohttp.ClientSession(base, headers=headers, connector=connector, timeout=timeout) as client:

        async def worker(n: int) -> None:
            rng = random.Random(n)
            while time.monotonic() < deadline:
                route, path = _pick(rng, scenario, ids)
                began = time.perf_counter()
                status = await get_status(client, path)
                latencies[route].append(time.perf_counter() - began)
                if status != "200":
                    errors[f"{route} {status}"] += 1

        began = time.monotonic()
        await asyncio.gather(*(worker(n) for n in range(clients)))
        elapsed = time.monotonic() - began
    return latencies, errors, elapsed


async def _drive_driver(
    settings: Settings, scenario: str, ids: dict[str, list[str]], clients: int, seconds: float
) -> list[float]:
    connection = connection_for(settings, start_local=False)
    driver = AsyncGraphDatabase.driver(
        connection.uri, auth=(connection.user, connection.password), notifications_min_severity="OFF"
    )
    query = dependencies_query("upstream", 2)
    today = dt.date.today()  # the version in force today, as the API reads it
    samples: list[float] = []
    deadline = time.monotonic() + seconds

    async def worker(n: int) -> None:
        rng = random.Random(n)
        while time.monotonic() < deadline:
            params = {
                "scenario": scenario,
                "at": today,
                "id": rng.choice(ids["use_cases"]),
                "after": None,
                "take": 101,
            }
            began = time.perf_counter()
            async with driver.session(database=connection.database, default_access_mode=READ_ACCESS) as session:
                result = await session.run(query, params)
                await result.data()
            samples.append(time.perf_counter() - began)

    try:
        await asyncio.gather(*(worker(n) for n in range(clients)))
    finally:
        await driver.close()
    return samples


def run(size: str, clients: int, seconds: float, driver_seconds: float, bundle: Path | None = None) -> dict[str, Any]:
    """`bundle`: a directory with bundle.json to serve instead of synth's `size` (to compare two
    checkouts on the same data)."""
    settings = Settings()
    scenario = f"bench-api-{size}" if bundle is None else f"bench-api-{bundle.name}"
    entities, ids = _ensure_loaded(settings, size, scenario, bundle / "bundle.json" if bundle else None)
    with served_api("bench") as (base, key, server):
        sampler = RssSampler(server.pid)
        sampler.start()
        asyncio.run(_drive_api(base, key, scenario, ids, clients, min(5.0, seconds)))  # warm-up
        api_cpu = _cpu_seconds(server.pid)
        latencies, errors, elapsed = asyncio.run(_drive_api(base, key, scenario, ids, clients, seconds))
        api_cpu = _cpu_seconds(server.pid) - api_cpu
        sampler.stop.set()
        sampler.join()
    driver = asyncio.run(_drive_driver(settings, scenario, ids, clients, driver_seconds))
    total = sum(len(v) for v in latencies.values())
    api_p50 = statistics.median(latencies["dependencies"]) if latencies["dependencies"] else float("nan")
    driver_p50 = statistics.median(driver) if driver else float("nan")
    return {
        "size": size,
        "entities": entities,
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": total,
        "req_per_s": round(total / elapsed, 1),
        "errors": sum(errors.values()),
        "error_statuses": dict(sorted(errors.items())),
        "routes": {route: _percentiles(samples) for route, samples in sorted(latencies.items())},
        "api_peak_rss_mb": round(sampler.peak / 2**20, 1),
        "api_cpu_ms_per_request": round(api_cpu * 1000 / total, 2) if total else None,
        "driver_dependencies_depth_2": {**_percentiles(driver), "req_per_s": round(len(driver) / driver_seconds, 1)},
        "api_over_driver_p50": round(api_p50 / driver_p50, 2),
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench api")
    parser.add_argument("--size", choices=sorted(synth.SIZES), default="large")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--driver-seconds", type=float, default=20.0)
    parser.add_argument(
        "--bundle", type=Path, metavar="DIR", help="a directory with bundle.json to serve instead of synth's"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = run(args.size, args.clients, args.seconds, args.driver_seconds, args.bundle)
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(
        f"{result['req_per_s']} req/s over {result['seconds']} s, {result['errors']} errors, "
        f"API peak RSS {result['api_peak_rss_mb']} MB, API CPU {result['api_cpu_ms_per_request']} ms/request"
    )
    for route, stats in result["routes"].items():
        print(f"  {route:<14} {stats}")
    print(f"  bare driver    {result['driver_dependencies_depth_2']}")
    print(f"  API p50 / driver p50 (dependencies depth 2): {result['api_over_driver_p50']}")


if __name__ == "__main__":
    main(sys.argv[1:])
