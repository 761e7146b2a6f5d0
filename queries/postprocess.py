"""Turning a check's rows into raw findings.

Without ``postprocess`` a check returns one row per finding: ``subjects``, ``accountable``,
optionally ``severity``, and either the fields of its ``message`` template (plus ``variant`` when
it has several) or, in a file without ``message``, the text itself as ``message``. The cycle
checks cannot do that without enumerating variable-length paths, so their Cypher returns the
small projected relation, as one row holding one list (one row of lists decodes several times
faster in the Python driver than thousands of records), and the findings are computed here in
linear time:

``waits-on-cycles``
    Column ``waits``: a list of maps ``{source, source_name, target, target_name}``, each an
    edge "source waits on target" (ids and names). Each strongly connected group of two or more
    nodes is one finding: subjects are the group's ids sorted, nobody is accountable. The message
    template is filled with ``title`` (the check's) and ``members`` (the names, "A, B and C").

``escalation-chains``
    Column ``roles``: a list of maps ``{role, name, executive, escalates_to,
    must_reach_executive}``, one per role (``escalates_to`` is an id or null). Each role that must
    reach an executive but whose chain stops at a non-executive role or loops is one finding;
    subjects and accountable are that role. The message's variant is ``loops``, ``dead-end``
    (the role itself escalates to no one) or ``stops``, filled with ``role`` (its name) and ``at``
    (the name of the role where the chain stops, or of the loop's smallest role id).

The default templates are ``queries.catalog.POSTPROCESS_MESSAGES``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from queries.catalog import SEVERITY_RANK, Check, Postprocess
from queries.cycles import broken_escalations, strongly_connected_components
from queries.messages import MessageTemplate, MessageValueError, join_names

Row = Mapping[str, object]

FINDING_COLUMNS: frozenset[str] = frozenset({"subjects", "accountable"})
OPTIONAL_FINDING_COLUMNS: frozenset[str] = frozenset({"severity", "details"})
"""``severity`` raises the check's severity for one finding; ``details`` (a map) becomes the
finding's ``details`` object (gap-checks.md: extra fields of a finding)."""


class RowShapeError(ValueError):
    """A row that does not have the columns or value types its check must return."""


@dataclass(frozen=True)
class RawFinding:
    subjects: list[str]
    accountable: str | None
    message: str
    severity: str | None = None
    details: dict[str, object] | None = None


def findings_from_rows(rows: Sequence[Row], check: Check) -> list[RawFinding]:
    """One finding per row, for checks without ``postprocess``."""
    template = check.message
    if template is None:
        return [_finding_row(row, FINDING_COLUMNS | {"message"}, set(), None) for row in rows]
    required = FINDING_COLUMNS | ({"variant"} if template.variants else set())
    return [_finding_row(row, required, template.all_fields(), template) for row in rows]


def _finding_row(
    row: Row, required: set[str] | frozenset[str], fields: set[str], template: MessageTemplate | None
) -> RawFinding:
    columns = set(row)
    missing = required - columns
    if missing:
        raise RowShapeError(f"a row has no column {', '.join(sorted(missing))}")
    unknown = columns - required - OPTIONAL_FINDING_COLUMNS - fields
    if template is not None and "message" in unknown:
        raise RowShapeError(
            "a row has a column message, but the check file's message template writes the text: return its"
            f" fields ({', '.join(sorted(fields))}) instead"
        )
    if unknown:
        expected = ", ".join(["subjects", "accountable", *sorted(required - FINDING_COLUMNS), *sorted(fields)])
        raise RowShapeError(
            f"a row has unknown column {', '.join(sorted(unknown))} (expected {expected} and optionally severity)"
        )
    subjects = row["subjects"]
    # An empty list is a finding about the operating model as a whole (the tom- checks).
    if not isinstance(subjects, list) or not all(isinstance(s, str) for s in subjects):
        raise RowShapeError(f"subjects must be a list of ids, got {subjects!r}")
    details = row.get("details")
    if details is not None and not isinstance(details, dict):
        raise RowShapeError(f"details must be a map, got {details!r}")
    severity = _optional_text(row, "severity") if "severity" in row else None
    if severity is not None and severity not in SEVERITY_RANK:
        raise RowShapeError(f"severity must be one of {', '.join(SEVERITY_RANK)}, got {severity!r}")
    return RawFinding(
        subjects=[str(s) for s in subjects],
        accountable=_optional_text(row, "accountable"),
        message=_text(row, "message") if template is None else _render(template, row, _variant(row, template)),
        severity=severity,
        details=details,
    )


def _variant(row: Row, template: MessageTemplate) -> str | None:
    if template.variants is None:
        return None
    return _text(row, "variant")


def _render(template: MessageTemplate, values: Row, variant: str | None = None) -> str:
    try:
        return template.render(values, variant)
    except MessageValueError as exc:
        raise RowShapeError(f"message: {exc}") from exc


def _template(check: Check) -> MessageTemplate:
    template = check.message
    assert template is not None, "a post-processed check always has a message template"
    return template


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
        values = {"title": check.spec.title, "members": join_names(names[m] for m in members)}
        findings.append(RawFinding(members, None, _render(_template(check), values)))
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
        variant = "loops" if broken.kind == "loops" else "dead-end" if broken.at == role else "stops"
        message = _render(_template(check), {"role": names[role], "at": names[broken.at]}, variant)
        findings.append(RawFinding([role], role, message))
    return findings


POSTPROCESSORS: dict[Postprocess | None, Callable[[Sequence[Row], Check], list[RawFinding]]] = {
    None: findings_from_rows,
    Postprocess.WAITS_ON_CYCLES: waits_on_cycle_findings,
    Postprocess.ESCALATION_CHAINS: escalation_chain_findings,
}


def raw_findings(rows: Sequence[Row], check: Check) -> list[RawFinding]:
    return POSTPROCESSORS[check.spec.postprocess](rows, check)


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
