"""Concurrent requests for the same findings share one run of the checks."""

from __future__ import annotations

import asyncio

import pytest

from api.routes.checks import FindingsCache
from queries.findings import RunResult

KEY = ("current", "2026-11-23", None, "fingerprint")


def test_concurrent_requests_share_one_run_and_the_answer_is_cached() -> None:
    runs = 0

    async def run() -> RunResult:
        nonlocal runs
        runs += 1
        await asyncio.sleep(0.05)
        return {"scenario": "current", "as_of": "2026-11-23", "findings": []}

    async def main() -> list[RunResult]:
        cache = FindingsCache()
        answers = await asyncio.gather(*(cache.get_or_run(KEY, run) for _ in range(20)))
        answers.append(await cache.get_or_run(KEY, run))
        return answers

    answers = asyncio.run(main())
    assert runs == 1
    assert len(answers) == 21 and all(a == answers[0] for a in answers)


def test_a_failed_run_is_not_cached() -> None:
    runs = 0

    async def failing() -> RunResult:
        nonlocal runs
        runs += 1
        raise RuntimeError("check failed")

    async def main() -> None:
        cache = FindingsCache()
        for _ in range(2):
            with pytest.raises(RuntimeError):
                await cache.get_or_run(KEY, failing)

    asyncio.run(main())
    assert runs == 2


def test_runs_for_different_answers_queue_for_two_slots() -> None:
    running = 0
    most = 0

    def run_for(day: str):  # type: ignore[no-untyped-def]
        async def run() -> RunResult:
            nonlocal running, most
            running += 1
            most = max(most, running)
            await asyncio.sleep(0.02)
            running -= 1
            return {"scenario": "current", "as_of": day, "findings": []}

        return run

    async def main() -> list[RunResult]:
        cache = FindingsCache(parallel=2)
        days = [f"2026-11-{d:02d}" for d in range(1, 9)]
        return await asyncio.gather(*(cache.get_or_run(("current", d, None, "f"), run_for(d)) for d in days))

    answers = asyncio.run(main())
    assert most == 2
    assert [a["as_of"] for a in answers] == [f"2026-11-{d:02d}" for d in range(1, 9)]
