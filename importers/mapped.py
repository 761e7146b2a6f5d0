"""`tomgraph import mapped`: any CSV or Excel table as a bundle, through a mapping file
(import.md, "Mapped tables"; the mapping file's reference is docs/import.md).

A mapping names, per target section, the sheet, an id template over columns (`{Agency|slug}`),
which columns or templates fill which fields, value maps, rows to skip, and whether entities are
derived from distinct values (one unit per agency). A `raci` block reads a RACI matrix, roles
across and activities down: the letters an activity names (R and A by default) become a
role-valued field (a decision right) of every entity in the activity's scope. The mapping file
is validated strictly (unknown keys are errors), every problem with its line.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from graph.ontology import kinds_by_section
from importers.bundle import BundleBuilder, field_names, from_text, property_value, slug
from importers.safe import LinedDict, SourceError, decode, parse_lined_yaml, read_bytes
from importers.summary import ImportSummary
from loaders.problems import Problem
from loaders.sources import Limits, _zip_bomb_problem

PROPERTIES_PREFIX = "properties."
_PLACEHOLDER = re.compile(r"\{([^{}|]+)(?:\|([a-z]+))?\}")
FILTERS: dict[str, Callable[[str], str]] = {"slug": slug, "lower": str.lower, "upper": str.upper, "strip": str.strip}
RaciLetter = Literal["R", "A", "C", "I"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ValueSpec(_Strict):
    """Where one field's value comes from: exactly one of `column`, `template`, `value`."""

    column: str | None = None
    template: str | None = None
    value: str | int | float | bool | list[str] | None = None
    map: dict[str, str | int | float | bool | None] | None = None
    unmapped: Literal["leave_out", "keep"] = "leave_out"
    split: str | None = Field(default=None, min_length=1)
    item: str | None = None
    """With `split`: a template for each item, `{value}` being the item (`v-{value|slug}`)."""
    default: str | int | float | bool | list[str] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ValueSpec:
        given = [k for k in ("column", "template", "value") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of column, template, value (given: {', '.join(given) or 'none'})")
        if self.item is not None and self.split is None:
            raise ValueError("item needs split (it formats each item of a split cell)")
        return self


class SkipRule(_Strict):
    """Skip a row when its `column` equals a value, is one of a list, is empty, or matches a regex."""

    column: str
    equals: str | None = None
    in_: list[str] | None = Field(default=None, alias="in")
    empty: bool | None = None
    matches: str | None = None

    @model_validator(mode="after")
    def _one_test(self) -> SkipRule:
        given = [k for k in ("equals", "in_", "empty", "matches") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of equals, in, empty, matches")
        if self.matches is not None:
            try:
                re.compile(self.matches)
            except re.error as e:
                raise ValueError(f"matches: not a regular expression ({e})") from None
        return self


class EachSpec(_Strict):
    """Read the row once per item of a list cell (`Vendor: "Acme; Beta"` gives two vendors)."""

    column: str
    split: str = Field(default=";", min_length=1)


class Target(_Strict):
    section: str
    sheet: str | None = None
    id: str
    fields: dict[str, str | ValueSpec] = Field(default_factory=dict)
    skip: list[SkipRule] = Field(default_factory=list)
    distinct: bool = False
    each: EachSpec | None = None


class RaciActivity(_Strict):
    """The decision right an activity row grants: `field` (a role-valued reference of `section`)
    on every entity of the section whose fields equal `where` (or named in `ids`)."""

    section: str = "models"
    field: str
    where: dict[str, str | int | bool] = Field(default_factory=dict)
    ids: list[str] | None = None
    letters: list[RaciLetter] = Field(default_factory=lambda: list[RaciLetter](["R", "A"]), min_length=1)


class Raci(_Strict):
    sheet: str | None = None
    activity_column: str
    role_id: str = "r-{role|slug}"
    create_roles: bool = True
    ignore_columns: list[str] = Field(default_factory=list)
    activities: dict[str, RaciActivity]


class Mapping(_Strict):
    mapping: Literal[1]
    sheet: str | None = None
    header_row: int = Field(default=1, ge=1)
    targets: list[Target] = Field(default_factory=list)
    raci: list[Raci] = Field(default_factory=list)


# --- the mapping file, with places --------------------------------------------------------


def _line_of(data: Any, loc: tuple[int | str, ...]) -> int:
    """The line of the deepest mapping key (or list item) on the path `loc`."""
    line = data.line if isinstance(data, LinedDict) else 1
    node = data
    for part in loc:
        if isinstance(node, LinedDict) and isinstance(part, str):
            key = "in" if part == "in_" and "in" in node else part
            line = node.key_lines.get(key, node.line)
            node = node.get(key)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            line = node.line if isinstance(node, LinedDict) else line
        else:
            break
    return line


def _loc_text(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("str", "ValueSpec", "function-after[_one_source(), ValueSpec]"):
            continue
        else:
            out += ("." if out else "") + ("in" if part == "in_" else str(part))
    return out or "mapping"


def load_mapping(path: Path, limits: Limits | None = None) -> tuple[Mapping, Any]:
    """The validated mapping and its raw data (for lines); SourceError with every problem as
    `MAPPING.yaml:LINE: FIELD: MESSAGE`."""
    limits = limits or Limits()
    name = path.name
    data = parse_lined_yaml(decode(read_bytes(path, limits), name), name, limits)
    if not isinstance(data, dict):
        raise SourceError([Problem(name, "mapping", "expected a mapping with `mapping: 1` and `targets`")])
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            arm = err["loc"][-1] if err["loc"] else None
            # A field is text or a mapping: report only the arm that matches what was written.
            if (arm == "str" and isinstance(err["input"], dict)) or (
                isinstance(arm, str) and "ValueSpec" in arm and not isinstance(err["input"], dict)
            ):
                continue
            loc = tuple(
                p for p in err["loc"] if not (isinstance(p, str) and (p.startswith("function-after") or p == "str"))
            )
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            elif err["type"] == "union_tag_invalid" or (loc and loc[-1] == "ValueSpec"):
                loc = loc[:-1]
            problems.append(Problem(f"{name}:{_line_of(data, loc)}", _loc_text(loc), msg))
        raise SourceError(sorted(_dedupe(problems), key=_line_order)) from None
    problems = _semantic_problems(mapping, data, name)
    if problems:
        raise SourceError(sorted(problems, key=_line_order))
    return mapping, data


def _line_order(problem: Problem) -> tuple[int, str]:
    line = problem.place.rsplit(":", 1)[-1]
    return (int(line) if line.isdigit() else 0, problem.field)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    # A field given as text or as a mapping reports under both union arms; keep the clearer one.
    seen: dict[tuple[str, str], Problem] = {}
    for p in problems:
        seen.setdefault((p.place, p.field), p)
    return list(seen.values())


def template_columns(template: str) -> list[str]:
    return [m.group(1).strip() for m in _PLACEHOLDER.finditer(template)]


def _template_problems(template: str) -> str | None:
    for m in _PLACEHOLDER.finditer(template):
        if m.group(2) and m.group(2) not in FILTERS:
            return f"unknown filter |{m.group(2)} (known: {', '.join(FILTERS)})"
    if not template_columns(template):
        return "names no column: write it as {Column} or {Column|slug}"
    return None


def _semantic_problems(mapping: Mapping, data: Any, name: str) -> list[Problem]:
    sections = {s: k for s, k in kinds_by_section().items() if not k.singleton}
    problems: list[Problem] = []

    def problem(loc: tuple[int | str, ...], message: str) -> None:
        problems.append(Problem(f"{name}:{_line_of(data, loc)}", _loc_text(loc), message))

    for i, target in enumerate(mapping.targets):
        if target.section not in sections:
            problem(
                ("targets", i, "section"), f"no section is called {target.section!r} (known: {', '.join(sections)})"
            )
            continue
        message = _template_problems(target.id)
        if message:
            problem(("targets", i, "id"), message)
        known = field_names(target.section)
        for field_name, spec in target.fields.items():
            loc = ("targets", i, "fields", field_name)
            if field_name not in known and not (
                field_name.startswith(PROPERTIES_PREFIX) and len(field_name) > len(PROPERTIES_PREFIX)
            ):
                problem(loc, f"{target.section} has no field {field_name!r} (known: {', '.join(sorted(known))})")
            template = spec if isinstance(spec, str) else spec.template
            if template is not None:
                message = _template_problems(template)
                if message:
                    problem(loc, message)
            if isinstance(spec, ValueSpec) and spec.item is not None and template_columns(spec.item) != ["value"]:
                problem((*loc, "item"), "must name {value} and nothing else, e.g. v-{value|slug}")
    for i, raci in enumerate(mapping.raci):
        if "{role" not in raci.role_id:
            problem(("raci", i, "role_id"), "must use {role} (the role's column header), e.g. r-{role|slug}")
        for activity, activity_spec in raci.activities.items():
            loc = ("raci", i, "activities", activity)
            kind = sections.get(activity_spec.section)
            if kind is None:
                problem((*loc, "section"), f"no section is called {activity_spec.section!r}")
                continue
            ref = kind.reference(activity_spec.field)
            if ref is None or "roles" not in ref.targets:
                role_fields = [r.name for r in kind.references if "roles" in r.targets]
                problem(
                    (*loc, "field"), f"not a role field of {activity_spec.section} (known: {', '.join(role_fields)})"
                )
            for key in activity_spec.where:
                if key not in field_names(activity_spec.section) and key != "id":
                    problem((*loc, "where", key), f"{activity_spec.section} has no field {key!r}")
    return problems


# --- tables -------------------------------------------------------------------------------


@dataclass
class Table:
    name: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]
    excel: bool

    def place(self, row: int) -> str:
        return f"{self.name}!row {row}" if self.excel else f"{self.name}:row {row}"


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _table(name: str, raw_rows: list[list[Any]], header_row: int, excel: bool, limits: Limits) -> Table:
    if len(raw_rows) < header_row:
        raise SourceError([Problem(name, "header", f"no header in row {header_row}")])
    header = [_cell_text(c) for c in raw_rows[header_row - 1]]
    rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in enumerate(raw_rows[header_row:], start=header_row + 1):
        texts = [_cell_text(c) for c in cells]
        if not any(texts):
            continue
        if len(rows) >= limits.max_entities:
            raise SourceError([Problem(f"{name}:row {number}", "rows", f"more than {limits.max_entities:,} rows")])
        rows.append((number, {h: t for h, t in zip(header, texts, strict=False) if h}))
    return Table(name, header, rows, excel)


class Tables:
    """The sheets of an `.xlsx` workbook, or the one table of a CSV file, read on first use."""

    def __init__(self, path: Path, header_row: int, limits: Limits) -> None:
        self.path = path
        self.header_row = header_row
        self.limits = limits
        self.excel = path.suffix.lower() in (".xlsx", ".xlsm")
        self._cache: dict[str | None, Table] = {}
        if not self.excel and path.suffix.lower() not in (".csv", ".txt"):
            raise SourceError([Problem(path.name, "path", "a mapped source is a .csv or .xlsx file")])
        self._data = read_bytes(path, limits)

    def get(self, sheet: str | None) -> Table:
        key = sheet if self.excel else None
        if key not in self._cache:
            self._cache[key] = self._read_sheet(sheet) if self.excel else self._read_csv()
        return self._cache[key]

    def read(self) -> list[Table]:
        """The tables read so far."""
        return list(self._cache.values())

    def _read_csv(self) -> Table:
        text = decode(self._data, self.path.name)
        try:
            raw = list(csv.reader(io.StringIO(text, newline=""), strict=True))
        except csv.Error as e:
            raise SourceError([Problem(self.path.name, "csv", str(e))]) from None
        return _table(self.path.name, [list(r) for r in raw], self.header_row, False, self.limits)

    def _read_sheet(self, sheet: str | None) -> Table:
        from openpyxl import load_workbook

        problem = _zip_bomb_problem(self.path, self.limits)
        if problem:
            raise SourceError([problem])
        try:
            workbook = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as e:  # openpyxl raises many types for a damaged workbook
            raise SourceError([Problem(self.path.name, "xlsx", f"not a readable workbook ({type(e).__name__})")]) from e
        try:
            names = workbook.sheetnames
            chosen = sheet if sheet is not None else names[0]
            if chosen not in names:
                raise SourceError(
                    [Problem(self.path.name, "sheet", f"no sheet is called {chosen!r} (sheets: {', '.join(names)})")]
                )
            raw = [list(r) for r in workbook[chosen].iter_rows(values_only=True)]
        finally:
            workbook.close()
        return _table(chosen, raw, self.header_row, True, self.limits)


# --- applying the mapping -----------------------------------------------------------------


def render(template: str, row: dict[str, str]) -> str | None:
    """The template filled from the row; None when a column it names is empty."""
    missing = False

    def fill(m: re.Match[str]) -> str:
        nonlocal missing
        value = row.get(m.group(1).strip(), "")
        if m.group(2):
            value = FILTERS[m.group(2)](value)
        if not value:
            missing = True
        return value

    out = _PLACEHOLDER.sub(fill, template)
    return None if missing else out


def _skipped(rule: SkipRule, row: dict[str, str]) -> bool:
    value = row.get(rule.column, "")
    if rule.empty is not None:
        return (value == "") == rule.empty
    if rule.equals is not None:
        return value.casefold() == rule.equals.casefold()
    if rule.in_ is not None:
        return value.casefold() in {v.casefold() for v in rule.in_}
    return rule.matches is not None and re.search(rule.matches, value) is not None


@dataclass
class _Run:
    mapping: Mapping
    data: Any
    mapping_name: str
    tables: Tables
    summary: ImportSummary
    builder: BundleBuilder
    used_columns: dict[str, set[str]] = field(default_factory=dict)
    grants: list[tuple[str, RaciActivity, str, str]] = field(default_factory=list)

    def table(self, sheet: str | None, loc: tuple[int | str, ...], columns: list[str]) -> Table:
        table = self.tables.get(sheet if sheet is not None else self.mapping.sheet)
        missing = [c for c in columns if c not in table.header]
        if missing:
            raise SourceError(
                [
                    Problem(
                        f"{self.mapping_name}:{_line_of(self.data, loc)}",
                        _loc_text(loc),
                        f"no column {c!r} in {table.name} (columns: {', '.join(h for h in table.header if h)})",
                    )
                    for c in missing
                ]
            )
        self.used_columns.setdefault(table.name, set()).update(columns)
        return table


def _spec_columns(spec: str | ValueSpec) -> list[str]:
    if isinstance(spec, str):
        return template_columns(spec)
    if spec.column is not None:
        return [spec.column]
    return template_columns(spec.template) if spec.template is not None else []


def _target_columns(target: Target) -> list[str]:
    columns = template_columns(target.id) + [r.column for r in target.skip]
    for spec in target.fields.values():
        columns += _spec_columns(spec)
    if target.each is not None:
        columns.append(target.each.column)
    return list(dict.fromkeys(columns))


def _value(spec: str | ValueSpec, row: dict[str, str], section: str, name: str, run: _Run) -> Any:
    if isinstance(spec, str):
        spec = ValueSpec(template=spec)
    raw: Any
    if spec.column is not None:
        raw = row.get(spec.column, "") or None
    elif spec.template is not None:
        raw = render(spec.template, row)
    else:
        raw = spec.value
    if raw is None:
        raw = spec.default
    if raw is None:
        return None
    items = [p.strip() for p in raw.split(spec.split) if p.strip()] if spec.split and isinstance(raw, str) else None
    values = items if items is not None else [raw]
    out: list[Any] = []
    for value in values:
        if spec.map is not None and isinstance(value, str):
            found = _lookup(spec.map, value)
            if found is _MISSING:
                if spec.unmapped == "leave_out":
                    source = spec.column or spec.template or name
                    run.summary.no_place(f"{source} value {value!r} (not in the map for {section}.{name})")
                    continue
            else:
                value = found
        if spec.item is not None and isinstance(value, str):
            value = render(spec.item, {"value": value})
        if value is None:
            continue
        if isinstance(value, str):
            is_property = name.startswith(PROPERTIES_PREFIX)
            value = property_value(value) if is_property else from_text(section, name, value)
        out.append(value)
    if not out:
        return None
    if items is not None:
        flat: list[Any] = []
        for v in out:
            flat += v if isinstance(v, list) else [v]
        return flat
    return out[0]


_MISSING = object()


def _lookup(table: dict[str, Any], value: str) -> Any:
    if value in table:
        return table[value]
    folded = value.strip().casefold()
    for key, mapped in table.items():
        if key.strip().casefold() == folded:
            return mapped
    return _MISSING


def _apply_target(run: _Run, index: int, target: Target) -> None:
    loc: tuple[int | str, ...] = ("targets", index)
    table = run.table(target.sheet, loc, _target_columns(target))
    for number, row in table.rows:
        place = table.place(number)
        if any(_skipped(rule, row) for rule in target.skip):
            run.summary.no_place(f"{table.name} rows skipped by targets[{index}] ({target.section})")
            continue
        variants = [row]
        if target.each is not None:
            parts = [p.strip() for p in row.get(target.each.column, "").split(target.each.split) if p.strip()]
            variants = [{**row, target.each.column: p} for p in parts]
        for variant in variants:
            _apply_row(run, target, variant, place)


def _apply_row(run: _Run, target: Target, row: dict[str, str], place: str) -> None:
    entity_id = render(target.id, row)
    if entity_id is None:
        if not target.distinct:
            run.summary.leave_out(place, target.section, f"id {target.id!r}: a column it names is empty")
        return
    data: dict[str, Any] = {"id": entity_id}
    properties: dict[str, Any] = {}
    for name, spec in target.fields.items():
        value = _value(spec, row, target.section, name, run)
        if value is None:
            continue
        if name.startswith(PROPERTIES_PREFIX):
            properties[name.removeprefix(PROPERTIES_PREFIX)] = value
        else:
            data[name] = value
    if properties:
        data["properties"] = properties
    data.setdefault("name", entity_id)
    run.builder.add(target.section, data, place, merge=target.distinct)


def _apply_raci(run: _Run, index: int, raci: Raci) -> None:
    loc: tuple[int | str, ...] = ("raci", index)
    table = run.table(raci.sheet, loc, [raci.activity_column])
    ignored = {raci.activity_column, *raci.ignore_columns}
    role_columns = [h for h in table.header if h and h not in ignored]
    run.used_columns.setdefault(table.name, set()).update(role_columns + raci.ignore_columns)
    activities = {key.strip().casefold(): spec for key, spec in raci.activities.items()}
    role_ids: dict[str, str] = {}
    for column in role_columns:
        role_id = render(raci.role_id, {"role": column})
        if role_id is None:
            continue
        role_ids[column] = role_id
        if raci.create_roles:
            run.builder.add("roles", {"id": role_id, "name": column}, table.place(run.mapping.header_row), merge=True)
    letters_left: Counter[str] = Counter()
    for number, row in table.rows:
        activity = row.get(raci.activity_column, "")
        spec = activities.get(activity.strip().casefold())
        cells = {c: set(re.findall(r"[RACI]", row.get(c, "").upper())) for c in role_columns}
        if spec is None:
            run.summary.no_place(f"RACI activity {activity!r} (not in the mapping)")
            continue
        for column, letters in cells.items():
            for letter in sorted(letters):
                if letter in spec.letters and column in role_ids:
                    run.grants.append((role_ids[column], spec, activity, table.place(number)))
                else:
                    letters_left[letter] += 1
    for letter, count in letters_left.items():
        run.summary.no_place(f"RACI letter {letter} (no decision right in the mapping)", count)


def _apply_grants(run: _Run) -> None:
    for role_id, spec, activity, place in run.grants:
        scope = [
            d
            for d in run.builder.drafts.values()
            if d.section == spec.section
            and (spec.ids is None or d.data["id"] in spec.ids)
            and all(str(d.data.get(k, "")).casefold() == str(v).casefold() for k, v in spec.where.items())
        ]
        if not scope:
            run.summary.leave_out(
                place, f"{spec.section}.{spec.field}", f"activity {activity!r}: no {spec.section} in scope"
            )
        for draft in scope:
            run.builder.add_reference(draft.data["id"], spec.field, role_id, place)


def import_mapped(
    source: Path, mapping_path: Path, limits: Limits | None = None
) -> tuple[dict[str, Any], ImportSummary]:
    """Read SOURCE (CSV or .xlsx) through the mapping file and return (bundle dict, summary).

    Raises SourceError for an invalid mapping (every problem as `MAPPING.yaml:LINE: FIELD:
    MESSAGE`), a column the mapping names but the table lacks, or an unreadable table.
    """
    limits = limits or Limits()
    mapping, data = load_mapping(mapping_path, limits)
    summary = ImportSummary(str(source))
    run = _Run(
        mapping, data, mapping_path.name, Tables(source, mapping.header_row, limits), summary, BundleBuilder(summary)
    )
    for i, target in enumerate(mapping.targets):
        _apply_target(run, i, target)
    for i, raci in enumerate(mapping.raci):
        _apply_raci(run, i, raci)
    _apply_grants(run)
    for table in run.tables.read():
        unused = Counter(
            column
            for _, row in table.rows
            for column, text in row.items()
            if text and column not in run.used_columns.get(table.name, set())
        )
        for column, count in unused.items():
            summary.no_place(f"{table.name} column {column!r}", count)
    return run.builder.finish(), summary
