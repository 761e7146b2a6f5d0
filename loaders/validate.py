"""Validation of raw items against the ontology: one pydantic model per kind, derived from
`graph.ontology`, then the bundle-wide rules (unique ids, references of the right kind)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationError,
    create_model,
)

from graph.ontology import ID_PATTERN, KINDS, SINGLETON_ID, FieldType, Kind, Reference, kinds_by_section
from loaders.problems import BundleError, Problem
from loaders.sources import Limits, RawBundle, RawItem

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _numbers_as_text(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _iso_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date YYYY-MM-DD, not a date and time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a real date") from None
    raise ValueError(f"{value!r} is not a date YYYY-MM-DD")


def _property_value(value: Any) -> Any:
    # Dates become ISO text so that YAML, JSON, CSV and Excel forms give the same graph.
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        raise ValueError(f"{value} does not fit in a 64-bit integer; write it as text")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise ValueError(f"properties hold scalars (text, numbers, booleans), not {type(value).__name__}")


Text = Annotated[str, BeforeValidator(_numbers_as_text)]
NonEmptyText = Annotated[str, BeforeValidator(_numbers_as_text), StringConstraints(strip_whitespace=True, min_length=1)]
EntityId = Annotated[str, BeforeValidator(_numbers_as_text), StringConstraints(pattern=ID_PATTERN)]
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
PropertyValue = Annotated[str | int | float | bool | None, BeforeValidator(_property_value)]
PropertyKey = Annotated[str, StringConstraints(min_length=1, max_length=128)]


def _field_annotation(field_type: FieldType, choices: tuple[str, ...]) -> Any:
    if field_type is FieldType.BOOL:
        return StrictBool
    if field_type is FieldType.DATE:
        return IsoDate
    if field_type is FieldType.ENUM:
        return Literal[choices]
    if field_type is FieldType.INT:
        # A whole number written as a number; a CSV/Excel cell of digits arrives as an int.
        return StrictInt
    return Text


def _one_as_list(value: Any) -> Any:
    return [value] if isinstance(value, (str, int, float)) and not isinstance(value, bool) else value


def _reference_annotation(ref: Reference) -> Any:
    if ref.many and ref.one_or_many:
        return Annotated[list[EntityId], BeforeValidator(_one_as_list)]
    return list[EntityId] if ref.many else EntityId


@cache
def item_model(section: str) -> type[BaseModel]:
    """The pydantic model of one item of `section`, derived from the ontology."""
    kind = kinds_by_section()[section]
    fields: dict[str, Any] = {}
    if not kind.singleton:
        fields = {
            "id": (EntityId, ...),
            "name": (NonEmptyText, ...) if kind.name_required else (NonEmptyText | None, None),
            "description": (Text | None, None),
            "tags": (list[NonEmptyText] | None, None),
            "properties": (dict[PropertyKey, PropertyValue] | None, None),
        }
    for f in kind.fields:
        annotation = _field_annotation(f.type, f.choices)
        if f.many:
            annotation = list[annotation]  # type: ignore[valid-type]
        fields[f.name] = (annotation, ...) if f.required else (annotation | None, None)
    for ref in kind.references:
        annotation = _reference_annotation(ref)
        fields[ref.name] = (annotation, ...) if ref.required else (annotation | None, None)
    config = ConfigDict(extra="forbid", strict=False, str_max_length=100_000)
    model: type[BaseModel] = create_model(kind.label, __config__=config, **fields)
    return model


@dataclass(slots=True)
class Entity:
    """One validated entity: its node properties and, per reference field, the ids it names."""

    section: str
    id: str
    props: dict[str, Any]
    refs: dict[str, tuple[str, ...]]

    @property
    def kind(self) -> Kind:
        return kinds_by_section()[self.section]


@dataclass
class Bundle:
    entities: list[Entity]

    def count(self) -> int:
        return len(self.entities)


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "item"


def _message(error: Any) -> str:
    kind = error["type"]
    given = error.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{given!r} is not one of {expected}"
    if kind == "string_pattern_mismatch":
        return (
            f"{given!r} is not a valid id (1 to 128 letters, digits, '.', '_', ':' or '-', "
            "starting with a letter or digit)"
        )
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return "is too long"
    if kind in ("bool_type", "bool_parsing"):
        return f"{given!r} is not true or false"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{given!r} is not a whole number"
    if kind == "string_type":
        return f"expected text, got {type(given).__name__}"
    if kind == "list_type":
        return f"expected a list, got {type(given).__name__}"
    if kind == "dict_type":
        return f"expected a mapping, got {type(given).__name__}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return str(error["msg"])


def _entity(kind: Kind, model: BaseModel) -> Entity:
    data = model.__dict__
    if kind.singleton:
        props: dict[str, Any] = {"id": SINGLETON_ID, "name": "Operating model"}
    else:
        props = {"id": data["id"], "name": data["name"] or data["id"]}
        if data["description"] is not None:
            props["description"] = data["description"]
        if data["tags"]:
            props["tags"] = list(data["tags"])
    for f in kind.fields:
        value = data[f.name]
        if value is None:
            value = f.default
        if f.many and value is not None:
            value = list(dict.fromkeys(value)) or None
        if value is not None:
            props[f.name] = value
    for key, value in ({} if kind.singleton else data["properties"] or {}).items():
        if value is not None:
            props[f"properties.{key}"] = value
    refs: dict[str, tuple[str, ...]] = {}
    for ref in kind.references:
        value = data[ref.name]
        if value:
            refs[ref.name] = tuple(dict.fromkeys(value)) if ref.many else (value,)
    return Entity(kind.section, props["id"], props, refs)


def _validate_item(item: RawItem, problems: list[Problem]) -> Entity | None:
    if not isinstance(item.data, dict):
        problems.append(
            Problem(item.place, item.section, f"each item must be a mapping, got {type(item.data).__name__}")
        )
        return None
    kind = kinds_by_section()[item.section]
    try:
        model = item_model(item.section).model_validate(item.data)
    except ValidationError as e:
        for error in e.errors():
            loc = tuple(error["loc"])
            if loc and loc[0] in item.bad_cells:
                continue
            problems.append(Problem(item.place, _field_path(loc), _message(error)))
        return None
    return _entity(kind, model)


def _a(singular: str) -> str:
    return ("an " if singular[0] in "aeio" else "a ") + singular


def _expected_kinds(ref: Reference) -> str:
    sections = kinds_by_section()
    if set(ref.targets) == {k.section for k in KINDS if not k.singleton}:
        return "an entity"
    return " or ".join(_a(sections[t].singular) for t in ref.targets)


def _referenced_ids(ref: Reference, value: Any) -> list[tuple[str, str]]:
    """(field path, id) for each id a reference field names; values of the wrong type are left
    to the item's validation."""
    if ref.many and isinstance(value, list):
        return [(f"{ref.name}[{i}]", v) for i, v in enumerate(value) if isinstance(v, str)]
    if (not ref.many or ref.one_or_many) and isinstance(value, str):
        return [(ref.name, value)]
    return []


def validate(raw: RawBundle, limits: Limits) -> Bundle:
    """Every problem of the bundle in one pass; raises BundleError if there is any."""
    problems = list(raw.problems)
    if raw.over_limit or len(raw.items) > limits.max_entities:
        # A CSV or Excel file stops being read at the limit and has said so with its place.
        if not raw.over_limit:
            problems.append(
                Problem(
                    "bundle",
                    "entities",
                    f"{len(raw.items):,} entities, over the limit of {limits.max_entities:,} (TOMGRAPH_MAX_ENTITIES)",
                )
            )
        raise BundleError(problems)
    entities: list[Entity] = []
    for item in raw.items:
        entity = _validate_item(item, problems)
        if entity is not None:
            entities.append(entity)

    # Every item with a text id claims it, valid or not: duplicates are reported either way, and a
    # reference to an item that failed validation is not also reported as dangling.
    first_place: dict[str, tuple[str, RawItem]] = {}
    for item in raw.items:
        item_id = item.data.get("id") if isinstance(item.data, dict) else None
        if isinstance(item_id, (int, float)) and not isinstance(item_id, bool):
            item_id = str(item_id)
        if not isinstance(item_id, str):
            continue
        if item_id in first_place:
            first = first_place[item_id][1]
            problems.append(Problem(item.place, "id", f"duplicate id {item_id!r}, already used at {first.place}"))
        else:
            first_place[item_id] = (item.section, item)

    # References are checked on every item, valid or not, so one pass reports them all.
    sections = kinds_by_section()
    for item in raw.items:
        if not isinstance(item.data, dict):
            continue
        for ref in sections[item.section].references:
            for field, target in _referenced_ids(ref, item.data.get(ref.name)):
                found = first_place.get(target)
                expected = _expected_kinds(ref)
                if found is None:
                    problems.append(Problem(item.place, field, f"{target!r} does not exist; expected {expected}"))
                elif found[0] not in ref.targets:
                    problems.append(
                        Problem(
                            item.place, field, f"{target!r} is {_a(sections[found[0]].singular)}, expected {expected}"
                        )
                    )
    problems += _unique_value_problems(raw)
    if problems:
        raise BundleError(sorted(problems, key=_place_order))
    return Bundle(entities)


def _unique_value_problems(raw: RawBundle) -> list[Problem]:
    """Fields declared ``unique`` (``people.aliases``, ``policies.risk_tier``): a value written by
    two items of the section is reported at the second, naming the first."""
    problems: list[Problem] = []
    first: dict[tuple[str, str, str], RawItem] = {}
    sections = kinds_by_section()
    for item in raw.items:
        if not isinstance(item.data, dict):
            continue
        for f in sections[item.section].fields:
            if not f.unique:
                continue
            value = item.data.get(f.name)
            values = value if isinstance(value, list) else [value]
            for i, v in enumerate(values):
                if not isinstance(v, str):
                    continue
                key = (item.section, f.name, v)
                field = f"{f.name}[{i}]" if isinstance(value, list) else f.name
                if key in first and first[key] is not item:
                    problems.append(
                        Problem(item.place, field, f"{v!r} is already given at {first[key].place}; it must be unique")
                    )
                else:
                    first.setdefault(key, item)
    return problems


def _place_order(problem: Problem) -> tuple[str, int, str, str]:
    """File (or sheet) first, then line or row number, as a reader goes through the bundle."""
    m = re.match(r"^(.*?)(?::row |!row |:)(\d+)$", problem.place)
    if m:
        return (m.group(1), int(m.group(2)), problem.field, problem.message)
    return (problem.place, 0, problem.field, problem.message)


def known_sections() -> tuple[str, ...]:
    return tuple(k.section for k in KINDS)
