"""Frameworks as data: obligations (EU AI Act, ISO/IEC 42001, NIST AI RMF, your own) that the graph
can show, one YAML file per framework, read by one strict loader (obligations.md "Obligation files").

The shipped frameworks live in this directory; users add theirs in the directories named by
``TOMGRAPH_FRAMEWORK_DIRS``. A framework file is ``<id>.yaml``; files named
``<id>.<obligation>.positive.yaml`` / ``.negative.yaml`` are fixtures (bundles) and are not frameworks.

Every problem is reported as ``file:line: field: message`` (FrameworkError), as for checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    StringConstraints,
    ValidationError,
    model_validator,
)

from graph.ontology import CONTROL_KINDS, DECISION_RIGHTS, EVIDENCE_KINDS, kinds_by_section
from queries.catalog import CHECK_ID_PATTERN, cypher_parameters, validation_problems
from queries.yaml_source import YamlProblem, read_located_yaml

BUILTIN_FRAMEWORK_DIR = Path(__file__).parent
OBLIGATION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,63}$"
FIXTURE_SUFFIXES: tuple[str, ...] = (".positive", ".negative")

RIGHT_ALIASES: dict[str, str] = {
    "change_approvers": "change_approval",
    "deployment_approvers": "deployment_approval",
    "shutdown_authority": "shutdown",
}
"""``right:`` accepts a decision right (``graph.ontology.DECISION_RIGHTS``) or the model field that gives it."""
RIGHTS: tuple[str, ...] = (*DECISION_RIGHTS, *RIGHT_ALIASES)
OVERSIGHT_LEVELS: tuple[str, ...] = ("none", "on_the_loop", "in_the_loop")
"""Least to most: ``oversight: on_the_loop`` holds for on_the_loop and in_the_loop."""

Text = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1)]
Scalar = StrictStr | StrictBool | int | float


class FrameworkError(Exception):
    """Every problem found in the framework files, each as ``file:line: field: message``."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


class UnknownFrameworkError(Exception):
    pass


class AppliesTo(BaseModel):
    """Which subjects an obligation is about: every entity of ``kind`` (a bundle section) whose
    fields take one of the ``where`` values, or the ids a ``cypher`` query returns (column ``id``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Text
    where: dict[Text, Scalar | list[Scalar]] = Field(default_factory=dict)
    cypher: Text | None = None

    @model_validator(mode="after")
    def _known(self) -> AppliesTo:
        sections = kinds_by_section()
        if self.kind not in sections or sections[self.kind].singleton:
            raise ValueError(f"kind: unknown section {self.kind!r}")
        if self.where and self.cypher:
            raise ValueError("give where or cypher, not both")
        fields = {f.name for f in sections[self.kind].fields} | {"id", "name"}
        unknown = sorted(set(self.where) - fields)
        if unknown:
            raise ValueError(f"where: {', '.join(unknown)} is not a field of {self.kind}")
        return self


class Item(BaseModel):
    """One ``satisfied_by`` item: exactly one of right, control, evidence, oversight, field
    (optionally with ``equals``), check_absent, cypher (obligations.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    right: StrictStr | None = None
    control: StrictStr | None = None
    evidence: StrictStr | None = None
    oversight: StrictStr | None = None
    field: StrictStr | None = None
    equals: Scalar | None = None
    check_absent: Annotated[StrictStr, StringConstraints(pattern=CHECK_ID_PATTERN)] | None = None
    cypher: Text | None = None

    @model_validator(mode="after")
    def _one(self) -> Item:
        given = [
            k
            for k in ("right", "control", "evidence", "oversight", "field", "check_absent", "cypher")
            if getattr(self, k) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "an item has exactly one of right, control, evidence, oversight, field, check_absent, cypher"
                f" (found {', '.join(given) or 'none'})"
            )
        if self.equals is not None and self.field is None:
            raise ValueError("equals goes only with field")
        for key, allowed in (
            ("right", RIGHTS),
            ("control", CONTROL_KINDS),
            ("evidence", EVIDENCE_KINDS),
            ("oversight", OVERSIGHT_LEVELS[1:]),
        ):
            value = getattr(self, key)
            if value is not None and value not in allowed:
                raise ValueError(f"{key}: {value!r} is not one of {', '.join(allowed)}")
        if self.cypher is not None and "scenario" not in cypher_parameters(self.cypher):
            raise ValueError("cypher: must use $scenario")
        return self

    def as_dict(self) -> dict[str, Any]:
        """The item as written in the file (what ``failing`` lists)."""
        return self.model_dump(exclude_none=True)

    def label(self) -> str:
        """One line: ``right: shutdown_authority``, ``field: unit = x`` ..."""
        data = self.as_dict()
        if "equals" in data:
            return f"field: {data['field']} = {data['equals']}"
        ((key, value),) = data.items()
        return f"{key}: {' '.join(str(value).split())}"


class Obligation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[StrictStr, StringConstraints(pattern=OBLIGATION_ID_PATTERN)]
    ref: Text
    title: Text
    applies_to: AppliesTo
    satisfied_by: Annotated[list[Item], Field(min_length=1)]
    maps_to: list[Annotated[StrictStr, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*:\S+$")]] = Field(
        default_factory=list
    )


class FrameworkSpec(BaseModel):
    """The contents of one framework file, exactly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    framework: Annotated[StrictStr, StringConstraints(pattern=CHECK_ID_PATTERN)]
    title: Text
    version: Text
    source: Annotated[StrictStr, StringConstraints(pattern=r"^https?://\S+$")]
    obligations: Annotated[list[Obligation], Field(min_length=1)]


@dataclass(frozen=True)
class Framework:
    spec: FrameworkSpec
    source: Path

    @property
    def id(self) -> str:
        return self.spec.framework

    def obligation(self, obligation_id: str) -> Obligation:
        for o in self.spec.obligations:
            if o.id == obligation_id:
                return o
        raise KeyError(obligation_id)


@dataclass(frozen=True)
class Frameworks:
    frameworks: tuple[Framework, ...]

    def ids(self) -> list[str]:
        return [f.id for f in self.frameworks]

    def select(self, only: Sequence[str] | None = None) -> list[Framework]:
        """Those named in ``only`` (in that order, duplicates dropped), or all; UnknownFrameworkError."""
        if only is None:
            return list(self.frameworks)
        wanted = list(dict.fromkeys(only))
        unknown = [i for i in wanted if i not in self.ids()]
        if unknown:
            raise UnknownFrameworkError(
                f"unknown framework{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}"
                f" (known: {', '.join(self.ids())})"
            )
        by_id = {f.id: f for f in self.frameworks}
        return [by_id[i] for i in wanted]


def is_framework_file(path: Path) -> bool:
    if path.suffix not in (".yaml", ".yml") or not path.is_file():
        return False
    return not any(path.stem.endswith(suffix) for suffix in FIXTURE_SUFFIXES)


def load_frameworks(extra_dirs: Sequence[Path] = ()) -> Frameworks:
    """The shipped frameworks and those in ``extra_dirs``; FrameworkError listing every problem."""
    problems: list[str] = []
    found: list[Framework] = []
    first: dict[str, Path] = {}
    for directory in (BUILTIN_FRAMEWORK_DIR, *extra_dirs):
        if not directory.is_dir():
            problems.append(f"{directory}: framework directory does not exist")
            continue
        for path in sorted(p for p in directory.iterdir() if is_framework_file(p)):
            try:
                framework = load_framework_file(path)
            except FrameworkError as exc:
                problems.extend(exc.problems)
                continue
            if framework.id in first:
                problems.append(
                    f"{path}:1: framework: duplicate framework id '{framework.id}'"
                    f" (also defined in {first[framework.id]})"
                )
                continue
            first[framework.id] = path
            found.append(framework)
    if problems:
        raise FrameworkError(problems)
    return Frameworks(tuple(found))


def load_framework_file(path: Path) -> Framework:
    """Read and validate one framework file; FrameworkError with every problem in it."""
    try:
        located = read_located_yaml(path)
    except YamlProblem as exc:
        raise FrameworkError([str(exc)]) from exc
    if not isinstance(located.data, dict):
        raise FrameworkError([f"{path}:1: a framework file must be a mapping of fields"])
    try:
        spec = FrameworkSpec.model_validate(located.data)
    except ValidationError as exc:
        raise FrameworkError(validation_problems(exc, located)) from exc
    problems: list[str] = []
    if spec.framework != path.stem:
        problems.append(
            f"{located.place(('framework',))}: framework: '{spec.framework}' must match the file name '{path.name}'"
        )
    seen: set[str] = set()
    for index, obligation in enumerate(spec.obligations):
        if obligation.id in seen:
            problems.append(
                f"{located.place(('obligations', index, 'id'))}: obligations.{index}.id:"
                f" duplicate obligation id '{obligation.id}'"
            )
        seen.add(obligation.id)
        for j, item in enumerate(obligation.satisfied_by):
            extra = cypher_parameters(item.cypher or "") - {"scenario", "as_of", "ids"}
            if extra:
                problems.append(
                    f"{located.place(('obligations', index, 'satisfied_by', j))}:"
                    f" obligations.{index}.satisfied_by.{j}.cypher:"
                    f" only $scenario, $as_of and $ids are passed, not ${', $'.join(sorted(extra))}"
                )
    if problems:
        raise FrameworkError(problems)
    return Framework(spec, path)
