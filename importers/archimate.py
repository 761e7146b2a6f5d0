"""`tomgraph import archimate`: an ArchiMate model as a bundle (import.md, "ArchiMate").

Sources: the Open Group exchange format, ArchiMate 3.x (namespace `.../archimate/3.0/`) and
2.1 (`.../archimate`, as Archi writes it), and Archi's native `.archimate` file. The file is
first read into neutral elements and relationships, then mapped as import.md's table says.
A property `tom:kind` (a section or its singular, e.g. `model`, `vendors`) places any element
in that section; properties named like a bundle field fill that field; `properties.KEY` and
any other property fill `properties`; a property `id` gives the bundle id when the element's
identifier cannot be one (written so by `tomgraph export archimate`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.ontology import kinds_by_section
from importers.bundle import BundleBuilder, Draft, field_names, from_text, property_value, safe_id
from importers.safe import SourceError, parse_xml
from importers.summary import ImportSummary
from loaders.problems import Problem
from loaders.sources import Limits

NS_EXCHANGE_3 = "http://www.opengroup.org/xsd/archimate/3.0/"
NS_EXCHANGE_2 = "http://www.opengroup.org/xsd/archimate"
NS_ARCHI = "http://www.archimatetool.com/archimate"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

KIND_PROPERTY = "tom:kind"
ID_PROPERTY = "id"
ACTOR_TYPE_PROPERTY = "type"
AI_PROPERTY = "ai"
PROPERTIES_PREFIX = "properties."

WORKFLOW_TYPES = frozenset({"BusinessProcess", "BusinessFunction", "BusinessInteraction"})
DATA_TYPES = frozenset({"DataObject", "BusinessObject"})
ORG_TYPES = frozenset({"Grouping", "Location"})
PART_OF_TYPES = frozenset({"Composition", "Aggregation"})
APP_DEPENDENCY_TYPES = frozenset({"Serving", "Flow", "Triggering"})
_RELATIONSHIP_ALIASES = {"UsedBy": "Serving", "Realisation": "Realization", "Specialisation": "Specialization"}
META_SECTION = "meta"
DEFAULT_STAGES = {"models": "production", "systems": "production", "workflows": "production"}
"""An ArchiMate model describes architecture in place; a missing `stage` is filled, and counted."""


@dataclass
class Element:
    id: str
    type: str
    name: str
    documentation: str
    properties: dict[str, str]
    place: str


@dataclass
class Relationship:
    id: str
    type: str
    source: str
    target: str
    place: str


@dataclass
class ArchiModel:
    elements: dict[str, Element] = field(default_factory=dict)
    relationships: list[Relationship] = field(default_factory=list)
    views: int = 0
    properties: dict[str, str] = field(default_factory=dict)
    """The model's own properties; those named like `meta` fields fill the bundle's `meta`."""
    declared: dict[str, str] = field(default_factory=dict)
    """Identifier -> what it was declared as (an element's or relationship's type)."""
    duplicates: list[Problem] = field(default_factory=list)
    """An identifier declared more than once, each time after the first."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xsi_type(node: ET.Element) -> str:
    return node.get(XSI_TYPE, "").rsplit(":", 1)[-1]


def _relationship_type(raw: str) -> str:
    name = raw.removesuffix("Relationship")
    return _RELATIONSHIP_ALIASES.get(name, name)


def _text(node: ET.Element | None) -> str:
    return "".join(node.itertext()).strip() if node is not None else ""


def _first_child(node: ET.Element, *names: str) -> ET.Element | None:
    return next((c for c in node if _local(c.tag) in names), None)


def read_model(path: Path, limits: Limits) -> ArchiModel:
    """Elements, relationships and the number of views of an exchange or `.archimate` file."""
    root = parse_xml(path, limits)
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if _local(root.tag) != "model" or namespace not in (NS_EXCHANGE_3, NS_EXCHANGE_2, NS_ARCHI):
        raise SourceError(
            [
                Problem(
                    path.name,
                    "model",
                    f"not an ArchiMate model (root {_local(root.tag)!r} in namespace {namespace or 'none'!r}); "
                    "expected an Open Group exchange file (2.1 or 3.x) or an Archi .archimate file",
                )
            ]
        )
    model = _read_archi(root, path.name) if namespace == NS_ARCHI else _read_exchange(root, path.name)
    if model.duplicates:
        raise SourceError(model.duplicates)
    return model


def _declare(model: ArchiModel, identifier: str, name: str, what: str) -> None:
    """Note an element's or relationship's identifier; one declared before is a problem (an
    identifier names one thing in a model: the exchange schema's `xs:ID`), so that nothing is
    silently replaced by a later declaration."""
    if identifier in model.declared:
        model.duplicates.append(
            Problem(
                f"{name}#{identifier}",
                "identifier",
                f"declared twice (a {model.declared[identifier]} and a {what}); an identifier names one thing",
            )
        )
    else:
        model.declared[identifier] = what


def _read_exchange(root: ET.Element, name: str) -> ArchiModel:
    model = ArchiModel()
    definitions: dict[str, str] = {}
    for node in root.iter():
        if _local(node.tag).lower() in ("propertydefinition", "propertydef") and node.get("identifier"):
            label = node.get("name") or _text(_first_child(node, "name", "label"))
            definitions[node.get("identifier", "")] = label
    model.properties = _exchange_properties(root, definitions)
    for container in root:
        kind = _local(container.tag)
        if kind == "elements":
            for node in container:
                element_id = node.get("identifier", "")
                _declare(model, element_id, name, _xsi_type(node) or "element")
                model.elements[element_id] = Element(
                    element_id,
                    _xsi_type(node),
                    _text(_first_child(node, "name", "label")),
                    _text(_first_child(node, "documentation")),
                    _exchange_properties(node, definitions),
                    f"{name}#{element_id}",
                )
        elif kind == "relationships":
            for node in container:
                rel_id = node.get("identifier", "")
                _declare(model, rel_id, name, f"{_xsi_type(node) or 'relationship'} relationship")
                model.relationships.append(
                    Relationship(
                        rel_id,
                        _relationship_type(_xsi_type(node)),
                        node.get("source", ""),
                        node.get("target", ""),
                        f"{name}#{rel_id}",
                    )
                )
        elif kind == "views":
            model.views += sum(1 for n in container.iter() if _local(n.tag) == "view")
    return model


def _exchange_properties(node: ET.Element, definitions: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    props = _first_child(node, "properties")
    for prop in props if props is not None else ():
        ref = prop.get("propertyDefinitionRef") or prop.get("identifierref") or ""
        key = definitions.get(ref)
        if key:
            out.setdefault(key, _text(_first_child(prop, "value")))
    return out


def _read_archi(root: ET.Element, name: str) -> ArchiModel:
    model = ArchiModel()
    for prop in root:
        if _local(prop.tag) == "property" and prop.get("key"):
            model.properties.setdefault(prop.get("key", ""), prop.get("value", ""))
    for node in root.iter():
        if _local(node.tag) != "element":
            continue
        raw_type = _xsi_type(node)
        element_id = node.get("id", "")
        place = f"{name}#{element_id}"
        if "DiagramModel" in raw_type or raw_type in ("SketchModel", "CanvasModel"):
            model.views += 1
        elif node.get("source") is not None and node.get("target") is not None:
            _declare(model, element_id, name, f"{raw_type or 'relationship'} relationship")
            model.relationships.append(
                Relationship(
                    element_id, _relationship_type(raw_type), node.get("source", ""), node.get("target", ""), place
                )
            )
        else:
            props: dict[str, str] = {}
            for prop in node:
                if _local(prop.tag) == "property" and prop.get("key"):
                    props.setdefault(prop.get("key", ""), prop.get("value", ""))
            doc = _first_child(node, "documentation")
            _declare(model, element_id, name, raw_type or "element")
            model.elements[element_id] = Element(element_id, raw_type, node.get("name", ""), _text(doc), props, place)
    return model


def _kind_property(value: str) -> str | None:
    """`tom:kind` names a section (`models`) or its singular (`model`, `data_domain`)."""
    word = value.strip().lower().replace(" ", "_")
    for section, kind in kinds_by_section().items():
        if kind.singleton:
            continue
        if word in (section, kind.singular.lower().replace(" ", "_")):
            return section
    return None


def _classify(model: ArchiModel) -> dict[str, str]:
    """Element id -> bundle section, for the elements that have a place (import.md's table)."""
    assigned_to_role = {
        r.source
        for r in model.relationships
        if r.type == "Assignment" and r.target in model.elements and model.elements[r.target].type == "BusinessRole"
    }
    org_types = {"BusinessActor", *ORG_TYPES}
    # An actor composed of, or part of, another actor, grouping or location is organisation
    # structure: a unit, even when it is assigned to roles (import.md leaves this case open).
    in_structure = {
        end
        for r in model.relationships
        if r.type in PART_OF_TYPES
        and r.source in model.elements
        and r.target in model.elements
        and model.elements[r.source].type in org_types
        and model.elements[r.target].type in org_types
        for end in (r.source, r.target)
    }
    sections: dict[str, str] = {}
    for element in model.elements.values():
        props = element.properties
        explicit = _kind_property(props[KIND_PROPERTY]) if KIND_PROPERTY in props else None
        actor_type = props.get(ACTOR_TYPE_PROPERTY, "").strip().lower()
        section: str | None = explicit
        if section is None and element.type == "BusinessActor":
            if actor_type == "person":
                section = "people"
            elif actor_type in ("unit", "organisation", "organization"):
                section = "units"
            else:
                person = element.id in assigned_to_role and element.id not in in_structure
                section = "people" if person else "units"
        elif section is None and element.type == "BusinessRole":
            section = "roles"
        elif section is None and element.type == "ApplicationComponent":
            is_ai = props.get(AI_PROPERTY, "").strip().lower() in ("true", "yes", "1")
            section = "models" if is_ai else "systems"
        elif section is None and element.type in DATA_TYPES:
            section = "data_domains"
        elif section is None and element.type in WORKFLOW_TYPES:
            section = "workflows"
        if section is not None:
            sections[element.id] = section
    # Groupings and locations are units when they are used as organisation: marked so, or
    # composed of (or part of) a unit.
    for element in model.elements.values():
        if element.type in ORG_TYPES and element.id not in sections:
            actor_type = element.properties.get(ACTOR_TYPE_PROPERTY, "").strip().lower()
            linked = any(
                r.type in PART_OF_TYPES
                and {r.source, r.target} & {element.id}
                and sections.get(r.target if r.source == element.id else r.source) == "units"
                for r in model.relationships
            )
            if actor_type in ("unit", "organisation", "organization") or linked:
                sections[element.id] = "units"
    return sections


def _consumed(element: Element, section: str) -> set[str]:
    consumed = {KIND_PROPERTY, ID_PROPERTY}
    if element.type in ("BusinessActor", *ORG_TYPES) and section in ("people", "units"):
        consumed.add(ACTOR_TYPE_PROPERTY)
    if element.type == "ApplicationComponent" and section in ("models", "systems"):
        consumed.add(AI_PROPERTY)
    return consumed


def _entity(element: Element, section: str, summary: ImportSummary) -> dict[str, Any]:
    entity_id = element.properties.get(ID_PROPERTY) or safe_id(element.id)
    data: dict[str, Any] = {"id": entity_id, "name": element.name or entity_id}
    if element.documentation:
        data["description"] = element.documentation
    known = field_names(section)
    consumed = _consumed(element, section)
    free: dict[str, Any] = {}
    for key, value in element.properties.items():
        if key in consumed:
            continue
        if key.startswith(PROPERTIES_PREFIX) and len(key) > len(PROPERTIES_PREFIX):
            free[key.removeprefix(PROPERTIES_PREFIX)] = property_value(value)
        elif key in known:
            data[key] = from_text(section, key, value)
        else:
            free[key] = property_value(value)
    if free:
        data["properties"] = free
    default = DEFAULT_STAGES.get(section)
    if default and "stage" not in data:
        data["stage"] = default
        summary.defaults[f"{section}.stage = {default} (no stage property)"] += 1
    return data


def import_archimate(path: Path, limits: Limits | None = None) -> tuple[dict[str, Any], ImportSummary]:
    """Read an ArchiMate file and return (bundle dict, summary).

    Raises SourceError (every problem with its place) when the file is not a readable ArchiMate
    model or is refused by the hardened parser (importers/safe.py).
    """
    model = read_model(path, limits or Limits())
    summary = ImportSummary(str(path))
    builder = BundleBuilder(summary)
    sections = _classify(model)
    ids: dict[str, str] = {}
    for element in model.elements.values():
        section = sections.get(element.id)
        if section is None:
            summary.no_place(element.type or "element without a type")
            continue
        draft = builder.add(section, _entity(element, section, summary), element.place)
        if draft is not None:
            ids[element.id] = draft.data["id"]
    if model.views:
        summary.no_place("view (diagram)", model.views)
    meta_fields = field_names(META_SECTION) - {"name", "description", "tags"}
    meta = {k: from_text(META_SECTION, k, v) for k, v in model.properties.items() if k in meta_fields}
    for key in model.properties:
        if key not in meta_fields:
            summary.no_place(f"model property {key}")
    if meta:
        builder.meta = Draft(META_SECTION, meta, f"{path.name}#model")
    for rel in model.relationships:
        missing = [end for end in (rel.source, rel.target) if end not in model.elements]
        if missing:
            # import.md: a reference that resolves to nothing in the source is left out, listed.
            summary.leave_out(
                rel.place,
                f"{rel.type or 'untyped'}Relationship",
                " and ".join(f"{end!r} resolves to no element of the model" for end in missing),
            )
        elif not _map_relationship(rel, sections, ids, builder):
            summary.no_place(f"{rel.type or 'untyped'}Relationship")
    return builder.finish(), summary


def _map_relationship(rel: Relationship, sections: dict[str, str], ids: dict[str, str], builder: BundleBuilder) -> bool:
    """Apply one relationship as import.md's table says; False when it has no mapping."""
    source, target = ids.get(rel.source), ids.get(rel.target)
    if source is None or target is None:
        return False
    s, t = sections[rel.source], sections[rel.target]
    apps = ("systems", "models")
    if rel.type == "Assignment":
        if s == "people" and t == "roles":
            builder.add_reference(source, "holds", target, rel.place)
        elif s == "units" and t == "roles":
            builder.add_reference(target, "unit", source, rel.place)
        elif s == "roles" and t == "workflows":
            builder.add_reference(target, "owner", source, rel.place)
        else:
            return False
        return True
    if rel.type in PART_OF_TYPES and s == "units" and t == "units":
        builder.add_reference(target, "parent", source, rel.place)
        return True
    if rel.type in APP_DEPENDENCY_TYPES and s in apps and t in apps:
        builder.add_reference(target, "depends_on", source, rel.place)
        return True
    if rel.type in ("Serving", "Realization") and s in apps and t == "workflows":
        builder.add_reference(target, "systems" if s == "systems" else "uses", source, rel.place)
        return True
    if rel.type == "Access" and t == "data_domains" and s in ("workflows", "systems", "models"):
        builder.add_reference(source, "consumes" if s == "models" else "reads", target, rel.place)
        return True
    return False
