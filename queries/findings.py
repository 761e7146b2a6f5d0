"""Findings as plain dicts in gap-checks.md's JSON shape, with their ordering and CI gate."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NotRequired, TypedDict

from queries.catalog import SEVERITY_RANK


class Waived(TypedDict):
    accepted_by: str
    reason: str
    expires: str


class Finding(TypedDict):
    """The spec's six keys; ``details`` only when the check returns some (gap-checks.md 1.1, e.g.
    ``details.missing``), ``waived`` only when an unexpired waiver accepts it."""

    check: str
    severity: str
    subjects: list[str]
    accountable: str | None
    message: str
    remediation: str
    details: NotRequired[dict[str, object]]
    waived: NotRequired[Waived]


class ExpiredWaiver(TypedDict):
    check: str
    subjects: list[str]
    accepted_by: str
    reason: str
    expires: str


class RunResult(TypedDict):
    """The spec's run shape; ``expired_waivers`` only when there are any."""

    scenario: str
    as_of: str
    findings: list[Finding]
    expired_waivers: NotRequired[list[ExpiredWaiver]]


def finding_identity(check: str, subjects: Iterable[str]) -> tuple[str, frozenset[str]]:
    """What makes two findings the same across runs, waivers and tests (gap-checks.md)."""
    return check, frozenset(subjects)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first, then by check id, then by subjects; stable."""
    return sorted(findings, key=lambda f: (SEVERITY_RANK[f["severity"]], f["check"], f["subjects"]))


def at_or_above(severity: str, threshold: str) -> bool:
    return SEVERITY_RANK[severity] <= SEVERITY_RANK[threshold]


def gate_failures(result: RunResult, threshold: str) -> list[Finding]:
    """Unwaived findings at or above ``threshold``: what ``--fail-on`` counts."""
    return [f for f in result["findings"] if "waived" not in f and at_or_above(f["severity"], threshold)]
