"""Waivers: findings accepted as risk by a role, until a date.

A waiver is identified by (scenario, check, set of subjects), like the finding it accepts. The
waivers of a scenario are kept in the graph as ``(:Waiver {scenario, check, subjects,
accepted_by, reason, expires})`` with ``subjects`` sorted, and are replaced as a whole set.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

from neo4j import ManagedTransaction
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictStr, StringConstraints, ValidationError

from graph.consistent import Reader
from graph.db import Database
from graph.ontology import ID_PATTERN
from queries.catalog import CHECK_ID_PATTERN, validation_problems
from queries.findings import ExpiredWaiver, Finding, Waived, finding_identity
from queries.yaml_source import YamlProblem, read_located_yaml


class WaiverError(Exception):
    """Every problem found with a set of waivers, one line each (``place: field: message``)."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


class UnknownScenarioError(Exception):
    pass


@dataclass(frozen=True)
class Waiver:
    check: str
    subjects: tuple[str, ...]
    accepted_by: str
    reason: str
    expires: date
    place: str | None = field(default=None, compare=False)
    """Where the waiver was written (``file:line``), for error messages."""

    @property
    def identity(self) -> tuple[str, frozenset[str]]:
        return finding_identity(self.check, self.subjects)

    def describe(self) -> str:
        return self.place or f"waiver of {self.check} for {', '.join(self.subjects)}"


def _iso_date(value: object) -> object:
    if isinstance(value, datetime):
        raise ValueError("must be a date YYYY-MM-DD, without a time")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"must be a date YYYY-MM-DD, got {value!r}") from None
    raise ValueError(f"must be a date YYYY-MM-DD, got {value!r}")


EntityId = Annotated[StrictStr, StringConstraints(pattern=ID_PATTERN)]


class WaiverEntry(BaseModel):
    """One item of ``waivers.yaml``, exactly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    check: Annotated[StrictStr, StringConstraints(pattern=CHECK_ID_PATTERN)]
    subjects: Annotated[list[EntityId], Field(min_length=1)]
    accepted_by: EntityId
    reason: Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1)]
    expires: Annotated[date, BeforeValidator(_iso_date)]


@dataclass
class WaiversFile:
    """A waivers file as read: the valid waivers, every problem found in the file, and each
    ``accepted_by`` that is a well-formed id, with its place, for the check against the graph."""

    waivers: list[Waiver]
    problems: list[str]
    accepted_by: list[tuple[str, str]]


def read_waivers_file(path: Path, known_checks: Collection[str] | None = None) -> WaiversFile:
    """Parse a ``waivers.yaml`` (a list of waivers) and report every problem in it in one pass
    (``file:line: field: message``): keys written twice, unknown and missing fields, bad values,
    unknown check ids, and a second waiver of the same finding. Raises WaiverError only when the
    file cannot be read as YAML at all."""
    try:
        located = read_located_yaml(path)
    except YamlProblem as exc:
        raise WaiverError([str(exc)]) from exc
    problems: list[str] = list(located.duplicates)
    if located.data is None:
        return WaiversFile([], problems, [])
    if not isinstance(located.data, list):
        return WaiversFile([], [*problems, f"{path}:1: a waivers file must be a list of waivers"], [])
    waivers: list[Waiver] = []
    accepted_by: list[tuple[str, str]] = []
    first_place: dict[tuple[str, frozenset[str]], str] = {}
    for index, item in enumerate(located.data):
        place = located.place((index,))
        if not isinstance(item, dict):
            problems.append(f"{place}: a waiver must be a mapping of fields")
            continue
        invalid: set[str] = set()
        try:
            entry = WaiverEntry.model_validate(item)
        except ValidationError as exc:
            problems.extend(validation_problems(exc, located, prefix=(index,)))
            invalid = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
            entry = None
        check = item.get("check")
        if known_checks is not None and "check" not in invalid and isinstance(check, str) and check not in known_checks:
            problems.append(f"{located.place((index, 'check'))}: check: unknown check id '{check}'")
            entry = None
        role = item.get("accepted_by")
        if "accepted_by" not in invalid and isinstance(role, str):
            accepted_by.append((place, role))
        if entry is None:
            continue
        waiver = Waiver(
            check=entry.check,
            subjects=tuple(sorted(set(entry.subjects))),
            accepted_by=entry.accepted_by,
            reason=entry.reason,
            expires=entry.expires,
            place=place,
        )
        if waiver.identity in first_place:
            problems.append(
                f"{place}: subjects: a waiver of {waiver.check} for these subjects is already at "
                f"{first_place[waiver.identity]}"
            )
            continue
        first_place[waiver.identity] = place
        waivers.append(waiver)
    return WaiversFile(waivers, sorted(problems, key=lambda p: _line_of(p, path)), accepted_by)


def _line_of(problem: str, path: Path) -> int:
    """The line a ``file:line: ...`` problem names, so that problems read in file order."""
    head = problem.removeprefix(f"{path}:").split(":", 1)[0]
    return int(head) if head.isdigit() else 0


def load_waivers_file(path: Path, known_checks: Collection[str] | None = None) -> list[Waiver]:
    """Parse a ``waivers.yaml`` (a list of waivers); raise WaiverError listing every problem in
    the file (see read_waivers_file)."""
    read = read_waivers_file(path, known_checks)
    if read.problems:
        raise WaiverError(read.problems)
    return read.waivers


def role_problems(db: Reader, scenario: str, accepted_by: Sequence[tuple[str, str]]) -> list[str]:
    """``place: accepted_by: ...`` for each (place, role id) whose role is not in the scenario's
    latest version (as `replace_waivers` judges it); raises UnknownScenarioError when the scenario
    has not been loaded."""
    rows = db.read(
        "OPTIONAL MATCH (s:Scenario {name: $scenario}) "
        "WITH s, coalesce(s.physical, s.name) AS physical "
        "OPTIONAL MATCH (r:Role {scenario: physical}) WHERE r.id IN $ids "
        "RETURN count(s) > 0 AS loaded, collect(DISTINCT r.id) AS ids",
        {"scenario": scenario, "ids": sorted({role for _, role in accepted_by})},
    )
    if not rows[0]["loaded"]:
        raise UnknownScenarioError(f"scenario '{scenario}' has not been loaded")
    found = set(rows[0]["ids"])
    return [
        f"{place}: accepted_by: '{role}' is not a role in scenario '{scenario}'"
        for place, role in accepted_by
        if role not in found
    ]


def scenario_exists(db: Reader, scenario: str) -> bool:
    rows = db.read("MATCH (s:Scenario {name: $scenario}) RETURN count(s) > 0 AS loaded", {"scenario": scenario})
    return bool(rows[0]["loaded"])


def replace_waivers(db: Database, scenario: str, waivers: Sequence[Waiver]) -> int:
    """Make the scenario's waivers exactly ``waivers``, in one write transaction; return how many.

    Every ``accepted_by`` must be a role of the scenario; otherwise nothing changes.
    """
    rows = [
        {
            "scenario": scenario,
            "check": w.check,
            "subjects": sorted(w.subjects),
            "accepted_by": w.accepted_by,
            "reason": w.reason,
            "expires": w.expires,
        }
        for w in waivers
    ]

    def work(tx: ManagedTransaction) -> int:
        # The roles of the latest version (its physical name; the scenario's own for one loaded
        # before versions were kept).
        loaded = tx.run(
            "OPTIONAL MATCH (s:Scenario {name: $scenario}) RETURN coalesce(s.physical, s.name) AS physical",
            scenario=scenario,
        ).single(strict=True)["physical"]
        if loaded is None:
            raise UnknownScenarioError(f"scenario '{scenario}' has not been loaded")
        found = tx.run(
            # by the (scenario, id) key of every entity: Role's own index is on scenario alone
            "UNWIND $ids AS id MATCH (r:Entity {scenario: $scenario, id: id}) WHERE r:Role RETURN collect(r.id) AS ids",
            ids=sorted({w.accepted_by for w in waivers}),
            scenario=loaded,
        ).single(strict=True)["ids"]
        problems = [
            f"{w.describe()}: accepted_by: '{w.accepted_by}' is not a role in scenario '{scenario}'"
            for w in waivers
            if w.accepted_by not in found
        ]
        if problems:
            raise WaiverError(problems)
        tx.run("MATCH (w:Waiver {scenario: $scenario}) DELETE w", scenario=scenario).consume()
        tx.run("UNWIND $rows AS row CREATE (w:Waiver) SET w = row", rows=rows).consume()
        return len(rows)

    return db.execute_write(work)


def read_waivers(db: Reader, scenario: str) -> list[Waiver]:
    rows = db.read(
        "MATCH (w:Waiver {scenario: $scenario}) "
        "RETURN w.check AS check, w.subjects AS subjects, w.accepted_by AS accepted_by, "
        "w.reason AS reason, w.expires AS expires ORDER BY check, subjects",
        {"scenario": scenario},
    )
    return [
        Waiver(
            check=row["check"],
            subjects=tuple(row["subjects"]),
            accepted_by=row["accepted_by"],
            reason=row["reason"],
            expires=row["expires"].to_native(),
        )
        for row in rows
    ]


def apply_waivers(
    findings: Iterable[Finding], waivers: Iterable[Waiver], as_of: date, check_ids: Collection[str]
) -> tuple[list[Finding], list[ExpiredWaiver]]:
    """Mark findings accepted by an unexpired waiver (``expires >= as_of``); list expired waivers.

    Expired waivers are listed only for the checks that ran (``check_ids``) and hide nothing.
    """
    active: dict[tuple[str, frozenset[str]], Waiver] = {}
    expired: list[ExpiredWaiver] = []
    for waiver in waivers:
        if waiver.check not in check_ids:
            continue
        if waiver.expires >= as_of:
            active[waiver.identity] = waiver
        else:
            expired.append(
                {
                    "check": waiver.check,
                    "subjects": sorted(waiver.subjects),
                    "accepted_by": waiver.accepted_by,
                    "reason": waiver.reason,
                    "expires": waiver.expires.isoformat(),
                }
            )
    marked: list[Finding] = []
    for finding in findings:
        accepted = active.get(finding_identity(finding["check"], finding["subjects"]))
        if accepted is not None:
            waived: Waived = {
                "accepted_by": accepted.accepted_by,
                "reason": accepted.reason,
                "expires": accepted.expires.isoformat(),
            }
            finding = {**finding, "waived": waived}
        marked.append(finding)
    expired.sort(key=lambda w: (w["check"], w["subjects"]))
    return marked, expired
