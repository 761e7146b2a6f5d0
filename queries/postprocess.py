"""Turning a check's rows into raw findings.

Without ``postprocess`` a check returns one row per finding (``subjects``, ``accountable``,
``message``, optionally ``severity``). The cycle checks cannot do that without enumerating
variable-length paths, so their Cypher returns the small projected relation, as one row holding
one list (one row of lists decodes several times faster in the Python driver than thousands of
records), and the findings are computed here in linear time:

``waits-on-cycles``
    Column ``waits``: a list of maps ``{source, source_name, target, target_name}``, each an
    edge "source waits on target" (ids and names). Each strongly connected group of two or more
    nodes is one finding: subjects are the group's ids sorted, nobody is accountable, and the
    message is the check's title followed by the members' names.

``escalation-chains``
    Column ``roles``: a list of maps ``{role, name, executive, escalates_to,
    must_reach_executive}``, one per role (``escalates_to`` is an id or null). Each role that must
    reach an executive but whose chain stops at a non-executive role or loops is one finding;
    subjects and accountable are that role.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from queries.catalog import SEVERITY_RANK, Check, Postprocess
from queries.cycles import broken_escalations, strongly_connected_components

Row = Mapping[str, object]

FINDING_COLUMNS: frozenset[str] = frozenset({"subjects", "accountable", "message"})
OPTIONAL_FINDING_COLUMNS: frozenset[str] = frozenset({"severity"})


class RowShapeError(ValueError):
    """A row that does not have the columns or value types its check must return."""


@dataclass(frozen=True)
class RawFinding:
    subjects: list[str]
    accountable: str | None
    message: str
    severity: str | None = None


def findings_from_rows(rows: Sequence[Row], check: Check) -> list[RawFinding]:
    """One finding per row, for checks without ``postprocess``."""
    return [_finding_row(row) for row in rows]


def _finding_row(row: Row) -> RawFinding:
    columns = set(row)
    missing = FINDING_COLUMNS - columns
    if missing:
        raise RowShapeError(f"a row has no column {', '.join(sorted(missing))}")
    unknown = columns - FINDING_COLUMNS - OPTIONAL_FINDING_COLUMNS
    if unknown:
        raise RowShapeError(
            f"a row has unknown column {', '.join(sorted(unknown))} "
            "(expected subjects, accountable, message and optionally severity)"
        )
    subjects = row["subjects"]
    if not isinstance(subjects, list) or not subjects or not all(isinstance(s, str) for s in subjects):
        raise RowShapeError(f"subjects must be a non-empty list of ids, got {subjects!r}")
    severity = _optional_text(row, "severity") if "severity" in row else None
    if severity is not None and severity not in SEVERITY_RANK:
        raise RowShapeError(f"severity must be one of {', '.join(SEVERITY_RANK)}, got {severity!r}")
    return RawFinding(
        subjects=[str(s) for s in subjects],
        accountable=_optional_text(row, "accountable"),
        message=_text(row, "message"),
        severity=severity,
    )


def waits_on_cycle_findings(rows: Sequence[Row], check: Check) -> list[RawFinding]:
    names: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    for wait in _single_list(rows, "waits"):
        source, target = _text(wait, "source"), _text(wait, "target")
        names[source] = _text(wait, "source_name")
        names[target] = _text(wait, "target_name")
        edges.append((source, target))
    findings = []
    for group in strongly_connected_components(edges):
        if len(group) < 2:
            continue
        members = sorted(group)
        findings.append(RawFinding(members, None, f"{check.spec.title}: {join_names(names[m] for m in members)}"))
    return findings


def escalation_chain_findings(rows: Sequence[Row], check: Check) -> list[RawFinding]:
    escalates_to: dict[str, str | None] = {}
    executive: dict[str, bool] = {}
    names: dict[str, str] = {}
    starts: list[str] = []
    for entry in _single_list(rows, "roles"):
        role = _text(entry, "role")
        names[role] = _text(entry, "name")
        escalates_to[role] = _optional_text(entry, "escalates_to")
        executive[role] = _flag(entry, "executive")
        if _flag(entry, "must_reach_executive"):
            starts.append(role)
    findings = []
    for role, broken in broken_escalations(escalates_to, executive, sorted(starts)).items():
        if broken.kind == "loops":
            loop_at = names[broken.at]
            message = f"Escalation from {names[role]} runs into a loop at {loop_at} and never reaches an executive"
        elif broken.at == role:
            message = f"{names[role]} is not an executive and escalates to no one"
        else:
            message = f"Escalation from {names[role]} stops at {names[broken.at]}, which is not an executive role"
        findings.append(RawFinding([role], role, message))
    return findings


POSTPROCESSORS: dict[Postprocess | None, Callable[[Sequence[Row], Check], list[RawFinding]]] = {
    None: findings_from_rows,
    Postprocess.WAITS_ON_CYCLES: waits_on_cycle_findings,
    Postprocess.ESCALATION_CHAINS: escalation_chain_findings,
}


def raw_findings(rows: Sequence[Row], check: Check) -> list[RawFinding]:
    return POSTPROCESSORS[check.spec.postprocess](rows, check)


def join_names(names: Iterable[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    items = list(names)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _single_list(rows: Sequence[Row], column: str) -> list[Row]:
    """The list of maps in ``column`` of the one row a post-processed check returns."""
    if len(rows) != 1 or set(rows[0]) != {column}:
        raise RowShapeError(f"must return exactly one row with the single column {column}")
    items = rows[0][column]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise RowShapeError(f"column {column} must be a list of maps")
    return items


def _text(row: Row, column: str) -> str:
    value = _optional_text(row, column)
    if value is None:
        raise RowShapeError(f"column {column} must not be null")
    return value


def _optional_text(row: Row, column: str) -> str | None:
    if column not in row:
        raise RowShapeError(f"a row has no column {column}")
    value = row[column]
    if value is not None and not isinstance(value, str):
        raise RowShapeError(f"column {column} must be a string, got {value!r}")
    return value


def _flag(row: Row, column: str) -> bool:
    if column not in row:
        raise RowShapeError(f"a row has no column {column}")
    value = row[column]
    if not isinstance(value, bool):
        raise RowShapeError(f"column {column} must be a boolean, got {value!r}")
    return value
