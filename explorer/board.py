"""The findings board: a scenario's findings grouped by check, severity, unit or accountable role.

Pure functions over a check run (gap-checks.md's findings) and the roles' units; the page shows
the first few rows of each group and the first groups of the board, and opens one group in full
on request, so 11,000 findings never become 11,000 rows in the browser. Every finding is in
exactly one group, so the groups' counts add up to the total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from queries.catalog import SEVERITY_RANK
from queries.findings import Finding, sort_findings

GroupBy = Literal["check", "severity", "unit", "role"]
GROUPINGS: tuple[GroupBy, ...] = ("check", "severity", "unit", "role")
NO_ROLE = "(no accountable role)"
NO_UNIT = "(no unit)"
NONE_KEY = "-"
"""The key of the group of findings with no accountable role (or no unit); never an entity id."""


@dataclass
class Group:
    key: str
    label: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.findings)

    @property
    def open(self) -> int:
        return sum(1 for f in self.findings if "waived" not in f)

    @property
    def waived(self) -> int:
        return self.count - self.open

    @property
    def worst(self) -> str:
        return self.findings[0]["severity"]

    def by_severity(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.findings:
            out[f["severity"]] = out.get(f["severity"], 0) + 1
        return out


def group_key(finding: Finding, by: GroupBy, roles: dict[str, dict[str, str | None]]) -> tuple[str, str]:
    """(key, label) of the group a finding falls in. A finding's unit is its accountable role's
    unit; a finding with no accountable role (or a role in no unit) has its own group."""
    if by == "check":
        return finding["check"], finding["check"]
    if by == "severity":
        return finding["severity"], finding["severity"]
    role = finding["accountable"]
    if by == "role":
        if not role:
            return NONE_KEY, NO_ROLE
        name = (roles.get(role) or {}).get("name")
        return role, f"{name} ({role})" if name else role
    unit = (roles.get(role) or {}).get("unit") if role else None
    if not unit:
        return NONE_KEY, NO_UNIT
    unit_name = (roles.get(role) or {}).get("unit_name") if role else None
    return unit, f"{unit_name} ({unit})" if unit_name else unit


def group_findings(
    findings: list[Finding], by: GroupBy, roles: dict[str, dict[str, str | None]], *, open_only: bool = False
) -> list[Group]:
    """Groups, most severe first (then the bigger group, then by key); each group's findings most
    severe first, open before waived."""
    groups: dict[str, Group] = {}
    for f in sort_findings(findings):
        if open_only and "waived" in f:
            continue
        key, label = group_key(f, by, roles)
        groups.setdefault(key, Group(key, label)).findings.append(f)
    for g in groups.values():
        g.findings.sort(key=lambda f: (SEVERITY_RANK[f["severity"]], "waived" in f, f["check"], f["subjects"]))
    return sorted(groups.values(), key=lambda g: (SEVERITY_RANK[g.worst], -g.count, g.key))
