"""Findings as plain dicts in gap-checks.md's JSON shape, with their ordering and CI gate."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NotRequired, TypedDict, TypeVar

from queries.catalog import SEVERITY_RANK

T = TypeVar("T")


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


def severity_counts(findings: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """``{critical, high, medium, low, total}``: how many of ``findings`` have each severity."""
    counts = dict.fromkeys(SEVERITY_RANK, 0)
    for f in findings:
        counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    return {**counts, "total": sum(counts.values())}


def worst_severity(findings: Iterable[Mapping[str, Any]]) -> str | None:
    """The most severe severity among ``findings``; None when there are none."""
    return min((f["severity"] for f in findings), key=SEVERITY_RANK.__getitem__, default=None)


def urgency_key(worst: str | None, open_total: int, waived: int, name: str | None) -> tuple[int, int, int, int, str]:
    """Sort key of a group of findings (a role, a unit, a check) in "who must act" order:
    the group whose most severe open finding is worst first, then the one with most open
    findings, then most waived; a group with no name (nobody accountable) sorts like any other and
    comes after named ones only on a tie. Issue 19: an unowned critical finding must not come last."""
    rank = SEVERITY_RANK[worst] if worst is not None else len(SEVERITY_RANK)
    return rank, -open_total, -waived, name is None, name or ""


def top(items: Sequence[T], n: int) -> tuple[list[T], int]:
    """The first ``n`` of ``items`` and how many more there are (for "and K more")."""
    return list(items[:n]), max(0, len(items) - n)


def group_by(
    findings: Iterable[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], str | None]
) -> list[dict[str, Any]]:
    """Findings grouped by ``key`` (a check, a unit, a role; None is a group of its own), in
    urgency order (:func:`urgency_key`). Each group: ``{"key", "worst", "open": severity counts of
    its unwaived findings, "waived": how many are waived, "findings": its unwaived findings, most
    severe first, in the order given otherwise}``."""
    groups: dict[str | None, list[Mapping[str, Any]]] = {}
    for f in findings:
        groups.setdefault(key(f), []).append(f)
    out: list[dict[str, Any]] = []
    for name, items in groups.items():
        open_items = sorted((f for f in items if "waived" not in f), key=lambda f: SEVERITY_RANK[f["severity"]])
        out.append(
            {
                "key": name,
                "worst": worst_severity(open_items),
                "open": severity_counts(open_items),
                "waived": len(items) - len(open_items),
                "findings": open_items,
            }
        )
    out.sort(key=lambda g: urgency_key(g["worst"], g["open"]["total"], g["waived"], g["key"]))
    return out
