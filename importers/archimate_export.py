"""`tomgraph export archimate`: a scenario as an Open Group exchange file (ArchiMate 3.x) that
`tomgraph import archimate` reads back to the same bundle.

Each entity becomes an element: the sections import.md maps (units, people, roles, systems,
models, data domains, workflows) as the ArchiMate types of its table, the others as the closest
type with a `tom:kind` property. The references import.md maps become relationships; every
other field, reference and free property is written as an element property named like the
field (`properties.KEY` for free ones), lists joined with `;`. An id that cannot be an XML
identifier (xs:ID) is written as `id-…` with the real id in a property `id`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graph.db import Database
from graph.dump import dump_scenario
from graph.ontology import ENTITY_LABEL, edge_types, kinds_by_label, kinds_by_section
from importers.archimate import (
    ACTOR_TYPE_PROPERTY,
    AI_PROPERTY,
    ID_PROPERTY,
    KIND_PROPERTY,
    NS_EXCHANGE_3,
    PROPERTIES_PREFIX,
)
from importers.bundle import FORMAT

XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9._-]*$")
_RESERVED_PREFIX = "tomgraph-"

ELEMENT_TYPES: dict[str, str] = {
    "units": "BusinessActor",
    "people": "BusinessActor",
    "roles": "BusinessRole",
    "systems": "ApplicationComponent",
    "models": "ApplicationComponent",
    "data_domains": "DataObject",
    "workflows": "BusinessProcess",
    "vendors": "BusinessActor",
    "use_cases": "Outcome",
    "kpis": "Goal",
    "controls": "Constraint",
    "access": "Contract",
    "delegations": "Contract",
    "policies": "Principle",
    "evidence": "Artifact",
    "incidents": "BusinessEvent",
    "initiatives": "WorkPackage",
    "assessments": "Assessment",
}
"""ArchiMate element type per section; the ones outside import.md's table carry `tom:kind`."""
FALLBACK_TYPE = "BusinessObject"
NATIVE_SECTIONS = frozenset({"units", "people", "roles", "systems", "models", "data_domains", "workflows"})


@dataclass(frozen=True)
class NativeReference:
    """A reference written as a relationship: (section, field) -> type, and whether the entity
    holding the field is the relationship's source."""

    rel_type: str
    holder_is_source: bool
    access: bool = False


NATIVE_REFERENCES: dict[tuple[str, str], NativeReference] = {
    ("people", "holds"): NativeReference("Assignment", True),
    ("roles", "unit"): NativeReference("Assignment", False),
    ("units", "parent"): NativeReference("Composition", False),
    ("workflows", "owner"): NativeReference("Assignment", False),
    ("workflows", "systems"): NativeReference("Serving", False),
    ("workflows", "uses"): NativeReference("Serving", False),
    ("workflows", "reads"): NativeReference("Access", True, access=True),
    ("systems", "reads"): NativeReference("Access", True, access=True),
    ("models", "consumes"): NativeReference("Access", True, access=True),
    ("models", "depends_on"): NativeReference("Serving", False),
    ("systems", "depends_on"): NativeReference("Serving", False),
}
"""import.md's table read backwards; each pair is written only when both ends can hold it."""


def scenario_bundle(db: Database, scenario: str) -> dict[str, Any]:
    """The scenario as a single-file bundle dict (format 1.1), rebuilt from the graph through the
    ontology: node properties give fields, relationships give references. Values equal to a
    field's default are left out (they mean the same, bundle-format.md)."""
    dump = dump_scenario(db, scenario)
    by_label = kinds_by_label()
    entities: dict[str, tuple[str, dict[str, Any]]] = {}
    for node in dump["nodes"]:
        label = next((x for x in node["labels"] if x != ENTITY_LABEL and x in by_label), None)
        if label is None:
            continue
        kind = by_label[label]
        data: dict[str, Any] = {} if kind.singleton else {"id": node["id"], "name": node["name"]}
        for key in ("description", "tags"):
            if node.get(key) not in (None, []):
                data[key] = node[key]
        for f in kind.fields:
            value = node.get(f.name)
            if value is not None and value != f.default:
                data[f.name] = value
        props = {k.removeprefix("properties."): v for k, v in node.items() if k.startswith("properties.")}
        if props:
            data["properties"] = dict(sorted(props.items()))
        entities[node["id"]] = (kind.section, data)
    edges = {(e.start, e.rel_type, e.end): e for e in edge_types()}
    labels = {i: by_label_section(s) for i, (s, _) in entities.items()}
    for rel_type, start, end in dump["relationships"]:
        if start not in entities or end not in entities:
            continue
        edge = edges.get((labels[start], rel_type, labels[end]))
        if edge is None:
            continue
        kind = kinds_by_section()[edge.section]
        ref = kind.reference(edge.field)
        assert ref is not None
        holder, value = (end, start) if ref.reverse else (start, end)
        data = entities[holder][1]
        if ref.many:
            data.setdefault(ref.name, []).append(value)
        else:
            data[ref.name] = value
    bundle: dict[str, Any] = {"format": FORMAT}
    for section, kind in kinds_by_section().items():
        if kind.singleton:
            found = [d for s, d in entities.values() if s == section]
            if found and found[0]:
                bundle[section] = found[0]
            continue
        items = sorted((d for s, d in entities.values() if s == section), key=lambda d: d["id"])
        for item in items:
            for ref in kind.references:
                value = item.get(ref.name)
                if isinstance(value, list):
                    # One vendor is written as one id, as the importers write it (one or many).
                    one = ref.one_or_many and len(value) == 1
                    item[ref.name] = value[0] if one else sorted(value)
        if items:
            bundle[section] = items
    return bundle


def by_label_section(section: str) -> str:
    return kinds_by_section()[section].label


def _text_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(_text_value(v) for v in value)
    return str(value)


def exchange_xml(bundle: dict[str, Any], model_name: str) -> bytes:
    """The bundle as an ArchiMate 3.x exchange document (UTF-8 bytes, with XML declaration)."""
    ET.register_namespace("", NS_EXCHANGE_3)
    ET.register_namespace("xsi", XSI)
    q: Callable[[str], str] = lambda tag: f"{{{NS_EXCHANGE_3}}}{tag}"  # noqa: E731
    sections = {item["id"]: section for section, items in _sections(bundle) for item in items}
    identifiers = _identifiers(bundle)
    root = ET.Element(q("model"), {"identifier": f"{_RESERVED_PREFIX}model"})
    ET.SubElement(root, q("name"), {XML_LANG: "en"}).text = model_name
    relationships: list[tuple[str, str, str, bool]] = []
    property_keys: dict[str, str] = {}
    meta = {k: _text_value(v) for k, v in (bundle.get("meta") or {}).items()}
    if meta:
        container = ET.SubElement(root, q("properties"))
        for key, value in meta.items():
            property_keys.setdefault(key, f"{_RESERVED_PREFIX}prop-{len(property_keys) + 1}")
            prop = ET.SubElement(container, q("property"), {"propertyDefinitionRef": property_keys[key]})
            ET.SubElement(prop, q("value"), {XML_LANG: "en"}).text = value
    elements = ET.SubElement(root, q("elements"))
    element_props: list[tuple[ET.Element, list[tuple[str, str]]]] = []
    for section, items in _sections(bundle):
        for item in items:
            node = ET.SubElement(
                elements,
                q("element"),
                {"identifier": identifiers[item["id"]], f"{{{XSI}}}type": ELEMENT_TYPES.get(section, FALLBACK_TYPE)},
            )
            ET.SubElement(node, q("name"), {XML_LANG: "en"}).text = item.get("name") or item["id"]
            if item.get("description"):
                ET.SubElement(node, q("documentation"), {XML_LANG: "en"}).text = item["description"]
            props = _element_properties(section, item, identifiers, sections, relationships)
            for key, _ in props:
                property_keys.setdefault(key, f"{_RESERVED_PREFIX}prop-{len(property_keys) + 1}")
            element_props.append((node, props))
    for node, props in element_props:
        if props:
            container = ET.SubElement(node, q("properties"))
            for key, value in props:
                prop = ET.SubElement(container, q("property"), {"propertyDefinitionRef": property_keys[key]})
                ET.SubElement(prop, q("value"), {XML_LANG: "en"}).text = value
    if relationships:
        container = ET.SubElement(root, q("relationships"))
        for n, (rel_type, source, target, access) in enumerate(relationships, start=1):
            attrs = {
                "identifier": f"{_RESERVED_PREFIX}rel-{n}",
                "source": identifiers[source],
                "target": identifiers[target],
                f"{{{XSI}}}type": rel_type,
            }
            if access:
                attrs["accessType"] = "Read"
            ET.SubElement(container, q("relationship"), attrs)
    if property_keys:
        container = ET.SubElement(root, q("propertyDefinitions"))
        for key, identifier in property_keys.items():
            definition = ET.SubElement(container, q("propertyDefinition"), {"identifier": identifier, "type": "string"})
            ET.SubElement(definition, q("name"), {XML_LANG: "en"}).text = key
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _sections(bundle: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    known = kinds_by_section()
    return [(s, v) for s, v in bundle.items() if s in known and not known[s].singleton and isinstance(v, list)]


def _identifiers(bundle: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    taken: set[str] = set()
    for _, items in _sections(bundle):
        for item in items:
            entity_id = item["id"]
            if _NCNAME.match(entity_id) and not entity_id.startswith(_RESERVED_PREFIX):
                out[entity_id] = entity_id
                taken.add(entity_id)
    for _, items in _sections(bundle):
        for item in items:
            entity_id = item["id"]
            if entity_id not in out:
                base = "id-" + re.sub(r"[^A-Za-z0-9._-]", "_", entity_id)
                candidate, n = base, 1
                while candidate in taken:
                    n += 1
                    candidate = f"{base}-{n}"
                out[entity_id] = candidate
                taken.add(candidate)
    return out


def _element_properties(
    section: str,
    item: dict[str, Any],
    identifiers: dict[str, str],
    sections: dict[str, str],
    relationships: list[tuple[str, str, str, bool]],
) -> list[tuple[str, str]]:
    kind = kinds_by_section()[section]
    props: list[tuple[str, str]] = []
    if identifiers[item["id"]] != item["id"]:
        props.append((ID_PROPERTY, item["id"]))
    if section == "people":
        props.append((ACTOR_TYPE_PROPERTY, "person"))
    elif section == "units":
        props.append((ACTOR_TYPE_PROPERTY, "unit"))
    elif section == "models":
        props.append((AI_PROPERTY, "true"))
    elif section not in NATIVE_SECTIONS:
        props.append((KIND_PROPERTY, section))
    if item.get("tags"):
        props.append(("tags", _text_value(item["tags"])))
    for f in kind.fields:
        if item.get(f.name) is not None:
            props.append((f.name, _text_value(item[f.name])))
    for ref in kind.references:
        value = item.get(ref.name)
        if value is None:
            continue
        targets = value if isinstance(value, list) else [value]
        native = NATIVE_REFERENCES.get((section, ref.name))
        as_property = []
        for target in targets:
            if native is not None and _native_fits(section, ref.name, sections.get(target)):
                holder, other = item["id"], target
                source, dest = (holder, other) if native.holder_is_source else (other, holder)
                relationships.append((native.rel_type, source, dest, native.access))
            else:
                as_property.append(target)
        if as_property:
            props.append((ref.name, ";".join(as_property)))
    for key, value in (item.get("properties") or {}).items():
        props.append((f"{PROPERTIES_PREFIX}{key}", _text_value(value)))
    return props


def _native_fits(section: str, field: str, target_section: str | None) -> bool:
    """Whether import reads this relationship back as this field (import.md's table)."""
    if target_section is None:
        return False
    if (section, field) == ("workflows", "uses"):
        return target_section == "models"
    if (section, field) == ("workflows", "systems"):
        return target_section == "systems"
    return True
