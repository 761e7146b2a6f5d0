"""The gap-check catalog: one YAML file per check, read by one strict loader.

The built-in checks live in ``queries/checks/``; users add theirs as files in the directories
named by ``TOMGRAPH_CHECK_DIRS``. A check file is ``<id>.yaml`` (or ``.yml``); files named
``<id>.positive.yaml``, ``<id>.negative.yaml`` and ``<id>.expected.yaml`` are its test fixtures
and are not checks.

Every check's Cypher receives ``$scenario`` and ``$as_of`` (a DATE) plus its declared
``parameters``; it must filter by ``$scenario``, must use each declared parameter and nothing
undeclared. It returns one row per finding with the columns ``subjects`` (ids, primary first),
``accountable`` (role id or null) and optionally ``severity`` (raises the check's severity for
that finding). The finding's text comes from the file's ``message`` template (see
``queries.messages``), filled with the row's other columns (plus ``variant`` to pick one of
several templates); a file without ``message`` returns the text itself in a ``message`` column.
A check with ``postprocess`` returns the rows its post-processor documents instead (see
``queries.postprocess``), and its ``message``, when given, must fit what the post-processor
fills in (``POSTPROCESS_MESSAGES``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
)

from queries.authority import FRAGMENTS
from queries.messages import MessageTemplate, TemplateError
from queries.yaml_source import LocatedYaml, PathKey, YamlProblem, read_located_yaml

BUILTIN_CHECK_DIR = Path(__file__).parent / "checks"
FIXTURE_SUFFIXES: tuple[str, ...] = (".positive", ".negative", ".expected")
ALWAYS_PASSED: tuple[str, ...] = ("scenario", "as_of")
EVENT_CHECK_PASSED: tuple[str, ...] = (*ALWAYS_PASSED, "events_scenario", "from_day", "until_day", "versions", "actors")
"""What an event-log check (``events: true``) also receives, once per version window
(``events.conformance``): ``$events_scenario`` the scenario's name (its events are stored under
it), ``$scenario`` the version's physical name, ``$from_day``/``$until_day`` the days of the
events to judge ([from, until): the window, ``--since`` and the as-of day), ``$versions`` every
window as ``{physical, start, end}`` (to judge an earlier event, such as an approval, against its
own version) and ``$actors`` a map from version to a map from actor name (person id or alias) to
person id."""
CHECK_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
FRAGMENT = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
"""``{{name}}`` in a check's Cypher: the shared fragment ``queries.authority.FRAGMENTS[name]``."""

Severity = Literal["critical", "high", "medium", "low"]
SEVERITY_RANK: dict[str, int] = {"critical": 0, "high": 1, "medium": 2, "low": 3}
"""Lower is more severe; findings sort by it."""


def _require_scalar(value: object) -> object:
    if not isinstance(value, (bool, int, float, str)):
        raise ValueError("must be a string, number or boolean")
    return value


def _require_message(value: object) -> object:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if (
        isinstance(value, dict)
        and value
        and all(isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in value.items())
    ):
        return {k: v.strip() for k, v in value.items()}
    raise ValueError("must be a template, or a mapping from variant names to templates")


ParameterValue = Annotated[bool | int | float | str, BeforeValidator(_require_scalar)]
Text = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1)]
ParameterName = Annotated[StrictStr, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class Postprocess(StrEnum):
    """How a check's rows become findings when one row per finding cannot be had linearly."""

    WAITS_ON_CYCLES = "waits-on-cycles"
    ESCALATION_CHAINS = "escalation-chains"


POSTPROCESS_MESSAGES: dict[Postprocess, str | dict[str, str]] = {
    Postprocess.WAITS_ON_CYCLES: "{title}: {members}",
    Postprocess.ESCALATION_CHAINS: {
        "loops": "Escalation from {role} runs into a loop at {at} and never reaches an executive",
        "dead-end": "{role} is not an executive and escalates to no one",
        "stops": "Escalation from {role} stops at {at}, which is not an executive role",
    },
}
"""Each post-processor's message when its check file gives none; a file's own ``message`` must
have the same variants and use only the fields in POSTPROCESS_FIELDS."""

POSTPROCESS_FIELDS: dict[Postprocess, frozenset[str]] = {
    Postprocess.WAITS_ON_CYCLES: frozenset({"title", "members"}),
    Postprocess.ESCALATION_CHAINS: frozenset({"role", "at"}),
}
"""What each post-processor fills in: the check's ``title`` and the group's ``members`` (names
joined as "A, B and C"); the starting ``role``'s name and the name of the role the chain stops
or loops ``at``."""


class CheckSpec(BaseModel):
    """The contents of one check file, exactly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[StrictStr, StringConstraints(pattern=CHECK_ID_PATTERN)]
    revision: Annotated[StrictInt, Field(ge=1)]
    title: Text
    severity: Severity
    rationale: Text
    remediation: Text
    message: Annotated[StrictStr | dict[StrictStr, StrictStr], BeforeValidator(_require_message)] | None = None
    parameters: dict[ParameterName, ParameterValue] = Field(default_factory=dict)
    cypher: Text
    postprocess: Postprocess | None = None
    events: StrictBool = False
    """A conformance check over the scenario's event log (events.md): run once per version
    window with the parameters of ``EVENT_CHECK_PASSED``."""
    escalation: dict[Severity, Text] | None = None
    """When a row's ``severity`` column raises the severity: more severe severity -> the condition
    in a few words (``critical: risk tier high``). Only allowed when the Cypher returns a
    ``severity`` column."""

    @property
    def severity_label(self) -> str:
        """``high``, or with its escalation: ``high (critical if risk tier high)``."""
        if not self.escalation:
            return f"{self.severity} (may be raised per finding)" if returns_severity(self.cypher) else self.severity
        raised = sorted(self.escalation.items(), key=lambda item: -SEVERITY_RANK[item[0]])
        return f"{self.severity} ({'; '.join(f'{sev} if {cond}' for sev, cond in raised)})"


@dataclass(frozen=True)
class Check:
    spec: CheckSpec
    source: Path

    @property
    def id(self) -> str:
        return self.spec.id

    @cached_property
    def message(self) -> MessageTemplate | None:
        """The template of its findings' texts, or None when its Cypher returns a ``message`` column."""
        if self.spec.message is not None:
            return MessageTemplate.parse(self.spec.message)
        if self.spec.postprocess is not None:
            return MessageTemplate.parse(POSTPROCESS_MESSAGES[self.spec.postprocess])
        return None


class CatalogError(Exception):
    """Every problem found in the check files, each as ``file:line: field: message``."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


class UnknownCheckError(Exception):
    pass


@dataclass(frozen=True)
class Catalog:
    checks: tuple[Check, ...]

    def ids(self) -> list[str]:
        return [c.id for c in self.checks]

    def event_check_ids(self) -> frozenset[str]:
        """The ids of the event-log checks (``events: true``), whose first subject is an event id."""
        return frozenset(c.id for c in self.checks if c.spec.events)

    def get(self, check_id: str) -> Check:
        for check in self.checks:
            if check.id == check_id:
                return check
        raise UnknownCheckError(f"unknown check id '{check_id}'")

    def select(self, only: Iterable[str] | None = None) -> list[Check]:
        """The checks named in ``only`` (catalog order), or all of them when ``only`` is None."""
        if only is None:
            return list(self.checks)
        wanted = list(dict.fromkeys(only))
        unknown = [i for i in wanted if i not in self.ids()]
        if unknown:
            raise UnknownCheckError(f"unknown check id{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
        return [c for c in self.checks if c.id in wanted]


_CYPHER_TOKENS = re.compile(
    r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`[^`]*`|//[^\n]*|/\*.*?\*/"""
    r"""|\$(?:`(?P<quoted>[^`]+)`|(?P<name>[A-Za-z_][A-Za-z0-9_]*))""",
    re.DOTALL,
)


def cypher_parameters(cypher: str) -> set[str]:
    """The ``$parameters`` a Cypher text uses, ignoring strings, quoted names and comments."""
    found: set[str] = set()
    for match in _CYPHER_TOKENS.finditer(cypher):
        name = match.group("quoted") or match.group("name")
        if name:
            found.add(name)
    return found


def is_check_file(path: Path) -> bool:
    if path.suffix not in (".yaml", ".yml") or not path.is_file():
        return False
    return not any(path.stem.endswith(suffix) for suffix in FIXTURE_SUFFIXES)


def load_catalog(extra_dirs: Sequence[Path] = ()) -> Catalog:
    """Load the built-in checks and those in ``extra_dirs``; raise CatalogError listing every problem."""
    problems: list[str] = []
    checks: list[Check] = []
    first_source: dict[str, Path] = {}
    for directory in (BUILTIN_CHECK_DIR, *extra_dirs):
        if not directory.is_dir():
            problems.append(f"{directory}: check directory does not exist")
            continue
        for path in sorted(p for p in directory.iterdir() if is_check_file(p)):
            try:
                check = load_check_file(path)
            except CatalogError as exc:
                problems.extend(exc.problems)
                continue
            if check.id in first_source:
                problems.append(
                    f"{path}:1: id: duplicate check id '{check.id}' (also defined in {first_source[check.id]})"
                )
                continue
            first_source[check.id] = path
            checks.append(check)
    if problems:
        raise CatalogError(problems)
    return Catalog(tuple(checks))


def load_check_file(path: Path) -> Check:
    """Read and validate one check file; raise CatalogError with every problem in it."""
    try:
        located = read_located_yaml(path)
    except YamlProblem as exc:
        raise CatalogError([str(exc)]) from exc
    if located.duplicates:
        raise CatalogError(located.duplicates)
    if not isinstance(located.data, dict):
        raise CatalogError([f"{path}:1: a check file must be a mapping of fields"])
    try:
        spec = CheckSpec.model_validate(located.data)
    except ValidationError as exc:
        raise CatalogError(validation_problems(exc, located)) from exc
    unknown = sorted({m.group(1) for m in FRAGMENT.finditer(spec.cypher)} - set(FRAGMENTS))
    if unknown:
        raise CatalogError(
            [
                f"{located.place(('cypher',))}: cypher: unknown fragment {{{{{name}}}}} (known: {', '.join(FRAGMENTS)})"
                for name in unknown
            ]
        )
    spec = spec.model_copy(update={"cypher": FRAGMENT.sub(lambda m: FRAGMENTS[m.group(1)], spec.cypher)})
    problems = _semantic_problems(spec, path, located)
    if problems:
        raise CatalogError(problems)
    return Check(spec, path)


def _semantic_problems(spec: CheckSpec, path: Path, located: LocatedYaml) -> list[str]:
    problems: list[str] = []
    if spec.id != path.stem:
        problems.append(f"{located.place(('id',))}: id: '{spec.id}' must match the file name '{path.name}'")
    used = cypher_parameters(spec.cypher)
    passed = EVENT_CHECK_PASSED if spec.events else ALWAYS_PASSED
    if "scenario" not in used:
        problems.append(f"{located.place(('cypher',))}: cypher: must use $scenario (a check reads one scenario)")
    for name in spec.parameters:
        if name in passed:
            problems.append(
                f"{located.place(('parameters', name))}: parameters.{name}: reserved name"
                f" (${', $'.join(passed[:-1])} and ${passed[-1]} are always passed)"
            )
        elif name not in used:
            place = located.place(("parameters", name))
            problems.append(f"{place}: parameters.{name}: declared but the cypher does not use ${name}")
    for name in sorted(used - set(spec.parameters) - set(passed)):
        problems.append(f"{located.place(('cypher',))}: cypher: uses ${name}, which is not declared in parameters")
    if spec.message is not None:
        problems.extend(_message_problems(spec, located))
    problems.extend(_escalation_problems(spec, located))
    return problems


_SEVERITY_COLUMN = re.compile(r"\bAS\s+`?severity`?(?![\w`])", re.IGNORECASE)


def returns_severity(cypher: str) -> bool:
    """Whether a check's Cypher raises its severity row by row (returns a ``severity`` column)."""
    return _SEVERITY_COLUMN.search(cypher) is not None


def _escalation_problems(spec: CheckSpec, located: LocatedYaml) -> list[str]:
    """``escalation`` says when a check raises its severity row by row. It is optional, so that
    checks written for catalog 1.0 still load; such a check's label says only that its severity
    may be raised (``severity_label``). Every shipped check declares it (a test checks)."""
    raises = returns_severity(spec.cypher)
    if spec.escalation and not raises:
        return [f"{located.place(('escalation',))}: escalation: the cypher returns no severity column"]
    return [
        f"{located.place(('escalation', severity))}: escalation.{severity}: must be more severe than {spec.severity}"
        for severity in spec.escalation or {}
        if SEVERITY_RANK[severity] >= SEVERITY_RANK[spec.severity]
    ]


def _message_problems(spec: CheckSpec, located: LocatedYaml) -> list[str]:
    message = spec.message
    assert message is not None
    try:
        template = MessageTemplate.parse(message)
    except TemplateError as exc:
        field = "message" if exc.variant is None else f"message.{exc.variant}"
        place = ("message",) if exc.variant is None else ("message", exc.variant)
        return [f"{located.place(place)}: {field}: {exc}"]
    if spec.postprocess is None:
        return []
    default = MessageTemplate.parse(POSTPROCESS_MESSAGES[spec.postprocess])
    if sorted(template.variants or ["(single)"]) != sorted(default.variants or ["(single)"]):
        wanted = "a single template" if default.variants is None else f"the variants {', '.join(default.variants)}"
        return [f"{located.place(('message',))}: message: postprocess {spec.postprocess} needs {wanted}"]
    unknown = template.all_fields() - POSTPROCESS_FIELDS[spec.postprocess]
    if unknown:
        known = ", ".join(sorted(POSTPROCESS_FIELDS[spec.postprocess]))
        return [
            f"{located.place(('message',))}: message: postprocess {spec.postprocess} fills in only {known},"
            f" not {', '.join(sorted(unknown))}"
        ]
    return []


def validation_problems(error: ValidationError, located: LocatedYaml, prefix: PathKey = ()) -> list[str]:
    """One ``file:line: field: message`` line per pydantic error, in the loader's own words.

    ``prefix`` locates the validated mapping inside the file (e.g. the index of a list item).
    """
    problems: list[str] = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        field = ".".join(str(part) for part in loc) or "(file)"
        kind = item["type"]
        if kind == "extra_forbidden":
            message = "unknown field"
        elif kind == "missing":
            message = "required field missing"
        elif kind == "value_error":
            message = str(item["ctx"]["error"])
        else:
            message = item["msg"][:1].lower() + item["msg"][1:]
        problems.append(f"{located.place((*prefix, *loc))}: {field}: {message}")
    return problems
