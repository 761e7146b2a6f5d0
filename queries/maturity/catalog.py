"""The maturity criteria: one YAML file each, read by one strict loader (unknown keys are an error).

A criterion file (maturity.md, "Stages")::

    id: foundation-models-owned        # the file's name; also the id of its self-assessment question
    revision: 1
    stage: foundation                  # foundation | initiate | scale | improve
    title: Every active model has an owner
    question: Does every AI model in use have a named, accountable owner?
    evidence: Active models with no owner.   # what the evidence ids are
    self_assessed: false               # may an `assessments` answer `yes` make it pass?
    scope: units                       # units: rows are counted per scope; organisation: the same for every scope
    metric: count                      # count | ratio | top_units | sum (below)
    pass_if: at_most                   # at_most | at_least
    threshold: 0
    cypher: |                          # or `findings: [check ids]`, or neither when self_assessed
      MATCH (m:Model {scenario: $scenario}) WHERE ... RETURN m.id AS id

The Cypher gets ``$scenario`` (the name the version read is stored under, docs/graph-model.md
"History"), ``$scenario_name`` (the scenario's own name, for what is kept per scenario rather
than per version: report snapshots, waivers) and ``$as_of``, and returns one row per fact: ``id`` (the evidence,
and the entity whose unit decides the scope unless a ``scope_of`` column names another), ``ok``
(for ``ratio``) and ``value`` (for ``sum``). The metric over the rows in scope:
``count`` the rows; ``ratio`` the share of rows with ``ok`` (0 when there are none); ``top_units``
the scope's top-level units (and their sub-units counted once) that hold a row; ``sum`` of
``value``. ``findings`` lists check ids: the rows are those checks' findings (id: each subject),
a finding being in a scope when one of its subjects is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, StringConstraints, ValidationError

from queries.catalog import CHECK_ID_PATTERN, cypher_parameters, validation_problems
from queries.yaml_source import YamlProblem, read_located_yaml

BUILTIN_CRITERIA_DIR = Path(__file__).parent / "criteria"
STAGES: tuple[str, ...] = ("foundation", "initiate", "scale", "improve")
"""In order: a scope reaches a stage when every criterion of it and of every earlier stage passes."""
FIXTURE_SUFFIXES = (".positive", ".negative", ".expected")
PARAMETERS = {"scenario", "scenario_name", "as_of"}

CheckId = Annotated[StrictStr, StringConstraints(pattern=CHECK_ID_PATTERN)]
Text = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1)]


class CriterionSpec(BaseModel):
    """One criterion file, exactly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[StrictStr, StringConstraints(pattern=CHECK_ID_PATTERN)]
    revision: Annotated[int, Field(ge=1, strict=True)]
    stage: Literal["foundation", "initiate", "scale", "improve"]
    title: Text
    question: Text
    evidence: Text
    self_assessed: StrictBool = False
    scope: Literal["units", "organisation"] = "units"
    metric: Literal["count", "ratio", "top_units", "sum"] = "count"
    pass_if: Literal["at_most", "at_least"]
    threshold: Annotated[float, Field(ge=0)]
    cypher: Text | None = None
    findings: Annotated[list[CheckId], Field(min_length=1)] | None = None


@dataclass(frozen=True)
class Criterion:
    spec: CriterionSpec
    source: Path

    @property
    def id(self) -> str:
        return self.spec.id

    def passes(self, value: float) -> bool:
        """Whether a measured value passes the threshold."""
        if self.spec.pass_if == "at_least":
            return value >= self.spec.threshold
        return value <= self.spec.threshold


class CriteriaError(Exception):
    """Every problem found in the criterion files, each as ``file:line: field: message``."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def is_criterion_file(path: Path) -> bool:
    if path.suffix not in (".yaml", ".yml") or not path.is_file():
        return False
    return not any(path.stem.endswith(suffix) for suffix in FIXTURE_SUFFIXES)


def load_criterion_file(path: Path, known_checks: Sequence[str] | None = None) -> Criterion:
    """Read and validate one criterion file; raise CriteriaError with every problem in it."""
    try:
        located = read_located_yaml(path)
    except YamlProblem as exc:
        raise CriteriaError([str(exc)]) from exc
    if not isinstance(located.data, dict):
        raise CriteriaError([f"{path}:1: a criterion file must be a mapping of fields"])
    try:
        spec = CriterionSpec.model_validate(located.data)
    except ValidationError as exc:
        raise CriteriaError(validation_problems(exc, located)) from exc
    problems = []
    if spec.id != path.stem:
        problems.append(f"{located.place(('id',))}: id: '{spec.id}' must match the file name '{path.name}'")
    if spec.cypher is not None and spec.findings is not None:
        problems.append(f"{located.place(('findings',))}: findings: give either cypher or findings, not both")
    if spec.cypher is None and spec.findings is None and not spec.self_assessed:
        problems.append(f"{path}:1: cypher: a criterion needs cypher or findings unless it is self_assessed")
    if spec.cypher is not None:
        unknown = sorted(cypher_parameters(spec.cypher) - PARAMETERS)
        if unknown:
            problems.append(
                f"{located.place(('cypher',))}: cypher: unknown parameter(s) {', '.join('$' + u for u in unknown)} "
                f"(known: $as_of, $scenario, $scenario_name)"
            )
    if spec.findings is not None and spec.metric != "count":
        problems.append(f"{located.place(('metric',))}: metric: a findings criterion counts (metric: count)")
    if spec.findings is not None and known_checks is not None:
        problems += [
            f"{located.place(('findings',))}: findings: unknown check id '{c}'"
            for c in spec.findings
            if c not in known_checks
        ]
    if problems:
        raise CriteriaError(problems)
    return Criterion(spec, path)


def load_criteria(extra_dirs: Sequence[Path] = (), known_checks: Sequence[str] | None = None) -> tuple[Criterion, ...]:
    """The built-in criteria and those in ``extra_dirs``, by stage then id; CriteriaError lists every
    problem (a bad file, an unknown check, a duplicate id, a missing directory)."""
    problems: list[str] = []
    criteria: list[Criterion] = []
    first: dict[str, Path] = {}
    for directory in (BUILTIN_CRITERIA_DIR, *extra_dirs):
        if not directory.is_dir():
            problems.append(f"{directory}: maturity criteria directory does not exist")
            continue
        for path in sorted(p for p in directory.iterdir() if is_criterion_file(p)):
            try:
                criterion = load_criterion_file(path, known_checks)
            except CriteriaError as exc:
                problems.extend(exc.problems)
                continue
            if criterion.id in first:
                problems.append(f"{path}:1: id: duplicate criterion id '{criterion.id}' (also {first[criterion.id]})")
                continue
            first[criterion.id] = path
            criteria.append(criterion)
    if problems:
        raise CriteriaError(problems)
    return tuple(sorted(criteria, key=lambda c: (STAGES.index(c.spec.stage), c.id)))
