"""Hypothesis strategies: random valid bundles built from `graph.ontology.KINDS`, and random
corruptions of them, each knowing where the loader must report it."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from graph.ontology import ID_PATTERN, KINDS, FieldType, Kind, kinds_by_section
from tests.bundles import write_directory, write_json, write_xlsx, write_yaml

FORMS = ("yaml", "json", "csv", "xlsx")
LIST_KINDS = tuple(k for k in KINDS if not k.singleton)
"""Sections written as lists of items (all but the `meta` mapping)."""
SECTIONS = tuple(k.section for k in LIST_KINDS)

# Text every form carries unchanged: no control or separator characters (Excel refuses them,
# YAML treats some as line breaks), no surrounding whitespace (CSV and Excel cells are
# stripped), no ';' (the list separator of CSV and Excel cells), no leading '=' (an Excel formula).
_TEXT_ALPHABET = st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters=";")
TEXT = st.text(_TEXT_ALPHABET, min_size=1, max_size=40).map(str.strip).filter(lambda s: s and not s.startswith("="))
ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-"
IDS = st.text(st.sampled_from(ID_CHARS), min_size=1, max_size=24).filter(lambda s: re.match(ID_PATTERN, s) is not None)
# A property's text must not read as a number or boolean in a CSV/Excel cell.
PROPERTY_TEXT = TEXT.filter(lambda s: not re.fullmatch(r"-?\d+(\.\d+)?|(?i:true|false)", s))
PROPERTY_VALUE = st.one_of(
    PROPERTY_TEXT,
    st.integers(-(10**12), 10**12),
    st.booleans(),
    st.integers(-(10**6), 10**6).map(lambda i: i + 0.25),
)
PROPERTY_KEYS = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz_"), min_size=1, max_size=16)
DATES = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31))


def _field_value(draw: st.DrawFn, f: Any) -> Any:
    """One value of a field; for a `many` field (format 1.1) a list of distinct values."""
    if f.many:
        return draw(st.lists(_scalars(f), min_size=1, max_size=3, unique=True))
    return draw(_scalars(f))


def _scalars(f: Any) -> st.SearchStrategy[Any]:
    if f.type is FieldType.INT:
        return st.integers(0, 10**6)
    if f.type is FieldType.BOOL:
        return st.booleans()
    if f.type is FieldType.DATE:
        return DATES.map(dt.date.isoformat)
    if f.type is FieldType.ENUM:
        return st.sampled_from(f.choices)
    return TEXT


def _unique_choices(kind: Kind) -> list[int]:
    """How many items a section can hold at most: a required unique enum (one policy per risk
    tier) allows one item per choice."""
    return [len(f.choices) for f in kind.fields if f.required and f.unique and f.type is FieldType.ENUM]


@st.composite
def valid_bundles(draw: st.DrawFn, max_per_kind: int = 4) -> dict[str, list[dict[str, Any]]]:
    """A valid bundle: unique ids across it, references to entities of the right kinds."""
    counts = {k.section: draw(st.integers(0, min([max_per_kind, *_unique_choices(k)]))) for k in LIST_KINDS}
    # a section with a required reference needs an entity it can point to (access rows need a
    # data domain and a consumer; delegations a role; evidence something it is about)
    changed = True
    while changed:
        changed = False
        for k in LIST_KINDS:
            for ref in k.references:
                if counts[k.section] and ref.required and not any(counts[t] for t in ref.targets):
                    counts[ref.targets[0]] = 1
                    changed = True
    total = sum(counts.values())
    ids = draw(st.lists(IDS, min_size=total, max_size=total, unique_by=str.lower))
    ids_of: dict[str, list[str]] = {}
    for section in SECTIONS:
        ids_of[section], ids = ids[: counts[section]], ids[counts[section] :]
    bundle: dict[str, list[dict[str, Any]]] = {}
    for kind in LIST_KINDS:
        items = []
        used: dict[str, set[Any]] = {}
        for entity_id in ids_of[kind.section]:
            item: dict[str, Any] = {"id": entity_id}
            if kind.name_required or draw(st.booleans()):
                item["name"] = draw(TEXT)
            if draw(st.booleans()):
                item["description"] = draw(TEXT)
            if draw(st.integers(0, 3)) == 0:
                item["tags"] = draw(st.lists(TEXT, min_size=1, max_size=3, unique=True))
            for f in kind.fields:
                if f.required or draw(st.booleans()):
                    value = _field_value(draw, f)
                    if f.unique:  # e.g. one policy per risk tier, aliases unique across people
                        taken = used.setdefault(f.name, set())
                        if f.required and f.type is FieldType.ENUM:
                            value = draw(st.sampled_from([c for c in f.choices if c not in taken]))
                        values = set(value) if f.many else {value}
                        if values & taken:
                            continue
                        taken |= values
                    item[f.name] = value
            for ref in kind.references:
                pool = [i for t in ref.targets for i in ids_of[t]]
                if not pool or not (ref.required or draw(st.booleans())):
                    continue
                if ref.many:
                    item[ref.name] = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
                else:
                    item[ref.name] = draw(st.sampled_from(pool))
            if draw(st.integers(0, 2)) == 0:
                item["properties"] = draw(st.dictionaries(PROPERTY_KEYS, PROPERTY_VALUE, min_size=1, max_size=3))
            items.append(item)
        if items:
            bundle[kind.section] = items
    if not bundle:
        bundle["units"] = [{"id": "u-only", "name": "The only unit"}]
    return bundle


def entity_count(bundle: dict[str, list[dict[str, Any]]]) -> int:
    return sum(len(v) for v in bundle.values())


def write_form(bundle: dict[str, Any], form: str, directory: Path) -> Path:
    """Write `bundle` as `form` under `directory`; return the path to load."""
    directory.mkdir(parents=True, exist_ok=True)
    if form == "yaml":
        return write_yaml(bundle, directory / "bundle.yaml")
    if form == "json":
        return write_json(bundle, directory / "bundle.json")
    if form == "csv":
        return write_directory(bundle, directory / "bundle", set(bundle))
    if form == "xlsx":
        return write_xlsx(bundle, directory / "bundle.xlsx")
    raise ValueError(form)


# --- corruptions --------------------------------------------------------------------------


@dataclass
class Corruption:
    """A corrupted bundle and what the loader must say about it."""

    kind: str
    bundle: dict[str, Any] | None  # None: the file itself is corrupted after writing (`mangle`)
    targets: tuple[tuple[str, int], ...] = ()  # (section, index) of the items a problem may name
    field: str | None = None  # the field the problem names (None: any)
    mangle: str | None = None  # "truncate" | "truncate-quoted" | "encoding" | "nesting"


ITEM_CORRUPTIONS = (
    "wrong-type",
    "dangling-reference",
    "wrong-kind-reference",
    "duplicate-id",
    "invalid-id",
    "unknown-field",
    "missing-required",
    "bad-enum",
    "bad-date",
    "huge-string",
)
FILE_CORRUPTIONS = ("truncate", "encoding", "nesting")
# What each form can express: CSV and Excel cells are text (or numbers), so no nesting or lists.
FORM_CORRUPTIONS = {
    "yaml": ITEM_CORRUPTIONS + FILE_CORRUPTIONS,
    "json": ITEM_CORRUPTIONS + FILE_CORRUPTIONS,
    "csv": (*ITEM_CORRUPTIONS, "encoding", "truncate-quoted"),
    # an Excel cell holds at most 32,767 characters, so no huge string can be written to one
    "xlsx": (*(c for c in ITEM_CORRUPTIONS if c != "huge-string"), "truncate"),
}


def _bool_or_enum_field(kind: Kind) -> Any:
    return next((f for f in kind.fields if f.type in (FieldType.BOOL, FieldType.ENUM) and not f.many), None)


@st.composite
def corruptions(draw: st.DrawFn, bundle: dict[str, Any], form: str, only: str | None = None) -> Corruption:
    kind_name = only or draw(st.sampled_from(FORM_CORRUPTIONS[form]))
    if kind_name in FILE_CORRUPTIONS or kind_name == "truncate-quoted":
        return Corruption(kind_name, None, mangle=kind_name)
    out = copy.deepcopy(bundle)
    all_ids = {i["id"] for items in out.values() for i in items}
    sections = sorted(out)
    candidates = sections
    if kind_name in ("dangling-reference", "wrong-kind-reference"):
        # only sections that have references (policies, for one, have none)
        candidates = [s for s in sections if kinds_by_section()[s].references] or sections
        if candidates is sections and not any(kinds_by_section()[s].references for s in sections):
            kind_name = "unknown-field"
    section = draw(st.sampled_from(candidates))
    kind = kinds_by_section()[section]
    index = draw(st.integers(0, len(out[section]) - 1))
    item = out[section][index]
    field: str | None
    if kind_name == "wrong-type":
        target = _bool_or_enum_field(kind)
        if form in ("yaml", "json") and draw(st.booleans()):
            field = "name"
            item["name"] = draw(st.sampled_from([["a", "list"], {"a": "mapping"}]))
        elif target is not None:
            field = target.name
            item[field] = "maybe-not"
        else:
            field = "name" if form in ("yaml", "json") else "id"
            item[field] = ["a", "list"] if form in ("yaml", "json") else "not an id!"
    elif kind_name in ("dangling-reference", "wrong-kind-reference"):
        ref = draw(st.sampled_from(kind.references))
        if kind_name == "dangling-reference":
            missing = draw(IDS.filter(lambda s: s not in all_ids))
            value: str = missing
        else:
            wrong = [i["id"] for s in sections if s not in ref.targets for i in out[s]]
            if not wrong:
                wrong = [draw(IDS.filter(lambda s: s not in all_ids))]
            value = draw(st.sampled_from(wrong))
        item[ref.name] = [value] if ref.many else value
        field = f"{ref.name}[0]" if ref.many else ref.name
    elif kind_name == "duplicate-id":
        others = [(s, i) for s in sections for i, it in enumerate(out[s]) if (s, i) != (section, index)]
        if not others:
            out.setdefault("units", []).append({"id": "dup-x", "name": "dup"})
            others = [("units", len(out["units"]) - 1)]
        other_section, other_index = draw(st.sampled_from(others))
        item["id"] = out[other_section][other_index]["id"]
        # reported at whichever of the two is read second (a CSV directory is read by file name)
        targets = ((section, index), (other_section, other_index))
        return Corruption(kind_name, out, targets, "id")
    elif kind_name == "invalid-id":
        item["id"] = draw(st.sampled_from(["-starts-with-dash", "has space", "x" * 129, "quote'd", "semi;colon"]))
        field = "id"
    elif kind_name == "unknown-field":
        item["colour_xyz"] = "red"
        field = "colour_xyz"
    elif kind_name == "missing-required":
        required = ["id"] + (["name"] if kind.name_required else []) + [f.name for f in kind.fields if f.required]
        field = draw(st.sampled_from(required))
        item.pop(field, None)
        if field == "id":
            field = None  # the whole item may be reported in more than one way (references to it)
    elif kind_name == "bad-enum":
        enum = next((f for f in kind.fields if f.type is FieldType.ENUM and not f.many), None)
        field = enum.name if enum else "id"
        item[field] = "no-such-choice" if enum else "bad id"
    elif kind_name == "bad-date":
        date_field = next((f for f in kind.fields if f.type is FieldType.DATE), None)
        field = date_field.name if date_field else "id"
        bad = draw(st.sampled_from(["2026-02-30", "31/12/2026", "2026-13-01", "yesterday"]))
        item[field] = bad if date_field else f"@{bad}"  # no date field here: a date where no id can be
    else:  # huge-string: over pydantic's 100,000 character limit
        field = "description"
        item["description"] = "x" * 100_001
    return Corruption(kind_name, out, ((section, index),), field)


def mangle(path: Path, how: str, form: str) -> Path:
    """Corrupt a written bundle file in place; returns the path to load."""
    target = sorted(path.iterdir())[0] if form == "csv" else path
    raw = target.read_bytes()
    if how == "truncate":
        if form == "yaml":
            # YAML in flow style (JSON is YAML): a cut always leaves a bracket open
            target.write_text(json.dumps(yaml.safe_load(raw)))
            raw = target.read_bytes()
        target.write_bytes(raw[: max(1, len(raw) // 2)])
    elif how == "truncate-quoted":
        # a quoted field that never ends
        target.write_bytes(raw + b'"never closed\n')
    elif how == "encoding":
        if form in ("yaml", "json"):
            target.write_bytes(raw.decode().encode("utf-16"))
        else:
            target.write_bytes(raw + "caf\u00e9,x\n".encode("latin-1"))
    elif how == "nesting":
        deep = "[" * 100_000 + "]" * 100_000
        text = raw.decode()
        if form == "json":
            data = json.loads(text)
            first = next(iter(k for k in data if k != "format"))
            data[first][0]["properties"] = {"deep": "@@DEEP@@"}
            target.write_text(json.dumps(data).replace('"@@DEEP@@"', deep))
        else:
            target.write_text(text + f"deep: {deep}\n")
    return path


def expected_places(corruption: Corruption, form: str, path: Path) -> set[str]:
    """The exact places the loader may name for an item-level corruption."""
    assert corruption.bundle is not None
    order = [(s, i) for s, items in corruption.bundle.items() for i in range(len(items))]
    out = set()
    for section, index in corruption.targets:
        # an unknown column is reported once, on the header row
        row = 1 if corruption.kind == "unknown-field" else index + 2
        if form == "csv":
            out.add(f"{section}.csv:row {row}")
        elif form == "xlsx":
            out.add(f"{section}!row {row}")
        else:
            # items start on their own lines: "- " in block YAML, "    {" in indented JSON
            lines = path.read_text().splitlines()
            marker = (lambda t: t.startswith("- ")) if form == "yaml" else (lambda t: t == "    {")
            starts = [n for n, text in enumerate(lines, start=1) if marker(text)]
            out.add(f"{path.name}:{starts[order.index((section, index))]}")
    return out
