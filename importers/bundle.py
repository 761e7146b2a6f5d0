"""Building an imported bundle: entities from any source, then one pass that makes it loadable.

`BundleBuilder.finish()` checks every entity against the same pydantic models the loader uses
(loaders/validate.py, derived from the ontology), leaves out a value the ontology refuses and a
reference that resolves to nothing or to the wrong kind (bundle-format.md, "Identifiers"), and
lists each in the summary. An entity that loses a required field or reference is left out
whole, and so, in turn, are references to it. The result is a single-file bundle (format 1.1).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from graph.ontology import ID_PATTERN, FieldType, Kind, kinds_by_section
from importers.summary import ImportSummary
from loaders.validate import item_model

FORMAT = "1.1"
LIST_SEPARATOR = ";"
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})
_ID = re.compile(ID_PATTERN)


def slug(text: str, max_length: int = 100) -> str:
    """Lower-case ASCII letters and digits joined by `-` ("Bureau of X (BX)" -> "bureau-of-x-bx")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return out[:max_length].rstrip("-")


def safe_id(raw: str, prefix: str = "id-") -> str:
    """A bundle id from a source's id: kept when it is valid, otherwise its characters outside
    the id alphabet become `-` and, if needed, `prefix` makes the first character a letter."""
    if _ID.match(raw):
        return raw
    cleaned = re.sub(r"[^A-Za-z0-9._:\-]+", "-", raw).strip("-")
    if not cleaned or not cleaned[0].isalnum():
        cleaned = prefix + cleaned.lstrip("._:-")
    return cleaned[:128]


def kind_of(section: str) -> Kind:
    return kinds_by_section()[section]


def field_names(section: str) -> set[str]:
    kind = kind_of(section)
    return {"name", "description", "tags", *kind.field_names, *(r.name for r in kind.references)}


def is_list_field(section: str, name: str) -> bool:
    kind = kind_of(section)
    if name == "tags":
        return True
    ref = kind.reference(name)
    if ref is not None:
        return ref.many
    f = next((f for f in kind.fields if f.name == name), None)
    return bool(f is not None and f.many)


def from_text(section: str, name: str, text: str) -> Any:
    """A field's value from text as a spreadsheet or a tool's property holds it: lists split at
    `;`, booleans from true/false/yes/no/1/0, whole numbers for `int` fields; else the text.
    A value that does not convert is returned unchanged, for `finish()` to report."""
    text = text.strip()
    if is_list_field(section, name):
        return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]
    f = next((f for f in kind_of(section).fields if f.name == name), None)
    if f is not None and f.type is FieldType.BOOL:
        low = text.lower()
        return True if low in _TRUE else False if low in _FALSE else text
    if f is not None and f.type.value == "int" and re.fullmatch(r"-?\d{1,18}", text):
        return int(text)
    return text


def property_value(text: str) -> str | int | float | bool:
    """A free `properties` value from text: true/false and numbers as such, anything else as text
    (the same rule as a `properties.KEY` column, bundle-format.md)."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if re.fullmatch(r"-?(0|[1-9]\d{0,17})", text.strip()):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text.strip()):
        return float(text)
    return text


@dataclass
class Draft:
    """An entity being built, with the place in the source it came from."""

    section: str
    data: dict[str, Any]
    place: str


class BundleBuilder:
    """Collects entities by id (unique across the bundle) and turns them into a loadable bundle."""

    def __init__(self, summary: ImportSummary) -> None:
        self.summary = summary
        self.drafts: dict[str, Draft] = {}
        self.meta: Draft | None = None
        """The bundle's top-level `meta` mapping (bundle-format.md, 1.1), when the source has one."""

    def add(self, section: str, data: dict[str, Any], place: str, *, merge: bool = False) -> Draft | None:
        """Add an entity (`data` holds its `id`). With `merge`, an entity of the same section and id
        already present is completed (given fields kept, lists united) instead of reported.
        Returns the draft, or None when the id is taken by another entity (listed as left out)."""
        entity_id = data["id"]
        existing = self.drafts.get(entity_id)
        if existing is None:
            draft = Draft(section, dict(data), place)
            self.drafts[entity_id] = draft
            return draft
        if merge and existing.section == section:
            for key, value in data.items():
                if isinstance(value, list) and isinstance(existing.data.get(key), list):
                    existing.data[key] = list(dict.fromkeys([*existing.data[key], *value]))
                elif key not in existing.data:
                    existing.data[key] = value
            return existing
        self.summary.leave_out(
            place,
            f"{section} {entity_id!r}",
            f"id already used by the {kind_of(existing.section).singular} at {existing.place}",
        )
        return None

    def get(self, entity_id: str) -> Draft | None:
        return self.drafts.get(entity_id)

    def add_reference(self, entity_id: str, name: str, target: str, place: str) -> None:
        """Append `target` to a list reference, or set a single one; a second, different value
        for a single reference is left out and listed (the first one written wins)."""
        draft = self.drafts.get(entity_id)
        if draft is None:
            return
        if is_list_field(draft.section, name):
            values = draft.data.setdefault(name, [])
            if target not in values:
                values.append(target)
            return
        current = draft.data.setdefault(name, target)
        if current != target:
            self.summary.leave_out(
                place, f"{draft.section}.{name}", f"{target!r}: {entity_id!r} already has {current!r}"
            )

    def finish(self) -> dict[str, Any]:
        """The bundle as a dict (`format` then sections in ontology order); fills `summary.written`."""
        alive = {entity_id: draft for entity_id, draft in self.drafts.items() if self._valid_fields(draft)}
        while True:
            removed = [entity_id for entity_id, draft in alive.items() if not self._resolve(draft, alive)]
            if not removed:
                break
            for entity_id in removed:
                del alive[entity_id]
        bundle: dict[str, Any] = {"format": FORMAT}
        if self.meta is not None and self.meta.data and self._valid_fields(self.meta):
            self._resolve(self.meta, alive)
            if self.meta.data:
                bundle[self.meta.section] = self._ordered(self.meta)
        for section, kind in kinds_by_section().items():
            if kind.singleton:
                continue
            items = [self._ordered(d) for d in alive.values() if d.section == section]
            if items:
                bundle[section] = items
                self.summary.written[section] = len(items)
        return bundle

    def _valid_fields(self, draft: Draft) -> bool:
        """Leave out every field value the ontology refuses; False if a required one is missing."""
        kind = kind_of(draft.section)
        model = item_model(draft.section)
        data = draft.data
        for key in [k for k, v in data.items() if v is None or v == [] or v == {}]:
            del data[key]
        for ref in kind.references:
            value = data.get(ref.name)
            if isinstance(value, list) and not ref.many:
                data[ref.name] = value[0]
        for _ in range(len(data) + 1):
            try:
                model.model_validate(data)
                return True
            except ValidationError as e:
                bad = {str(err["loc"][0]) for err in e.errors() if err["loc"]}
                messages = {str(err["loc"][0]): str(err["msg"]) for err in e.errors() if err["loc"]}
                for name in sorted(bad):
                    if name in ("id", "name") or name not in data or self._required(kind, name):
                        what = draft.section if kind.singleton else f"{draft.section} {data.get('id')!r}"
                        why = f"{name}: {messages[name]}" if name in data else f"{name}: required and not given"
                        self.summary.leave_out(draft.place, what, why)
                        return False
                    self.summary.leave_out(draft.place, f"{draft.section}.{name}", f"{data[name]!r}: {messages[name]}")
                    del data[name]
        return False

    @staticmethod
    def _required(kind: Kind, name: str) -> bool:
        f = next((f for f in kind.fields if f.name == name), None)
        ref = kind.reference(name)
        return bool((f is not None and f.required) or (ref is not None and ref.required))

    def _resolve(self, draft: Draft, alive: dict[str, Draft]) -> bool:
        """Drop references to nothing or to the wrong kind; False if a required one is lost."""
        kind = kind_of(draft.section)
        for ref in kind.references:
            value = draft.data.get(ref.name)
            if value is None:
                continue
            values = value if isinstance(value, list) else [value]
            kept = []
            for target in values:
                found = alive.get(target)
                if found is not None and found.section in ref.targets:
                    kept.append(target)
                    continue
                why = (
                    "resolves to nothing in the source"
                    if found is None
                    else f"is {kind_of(found.section).singular}, expected "
                    + " or ".join(kind_of(t).singular for t in ref.targets)
                )
                self.summary.leave_out(draft.place, f"{draft.section}.{ref.name}", f"{target!r} {why}")
            if kept:
                draft.data[ref.name] = kept if isinstance(value, list) else kept[0]
            else:
                del draft.data[ref.name]
                if ref.required:
                    self.summary.leave_out(
                        draft.place, f"{draft.section} {draft.data.get('id')!r}", f"{ref.name}: required and left out"
                    )
                    return False
        return True

    @staticmethod
    def _ordered(draft: Draft) -> dict[str, Any]:
        kind = kind_of(draft.section)
        own = [*kind.field_names, *(r.name for r in kind.references)]
        order = own if kind.singleton else ["id", "name", "description", *own, "tags"]
        data = draft.data
        out = {k: data[k] for k in order if k in data}
        for ref in kind.references:
            value = out.get(ref.name)
            if ref.one_or_many and isinstance(value, list) and len(value) == 1:
                out[ref.name] = value[0]
        if data.get("properties"):
            out["properties"] = dict(sorted(data["properties"].items()))
        return out


def dump_bundle(bundle: dict[str, Any], path: Path, header: str) -> None:
    """Write the bundle as one YAML file, with `header` as a comment on top."""
    # libyaml's emitter when PyYAML has it: the pure-Python one takes most of an import's time.
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = yaml.dump(bundle, Dumper=dumper, sort_keys=False, allow_unicode=True, width=120, default_flow_style=False)
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    path.write_text(comment + text, encoding="utf-8")
