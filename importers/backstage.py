"""`tomgraph import backstage`: a Backstage software catalog as a bundle (import.md, "Backstage").

Sources: catalog YAML files or a directory of them (searched recursively for `*.yaml`/`*.yml`),
each possibly holding several documents. Entity references follow Backstage's rules
(`[kind:][namespace/]name`; the kind defaults by field, the namespace to the referring
entity's; compared case-insensitively). Ids are `kind:name`, with the namespace written in
(`kind:namespace.name`) when it is not `default`, so they are unique across namespaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from importers.bundle import BundleBuilder, safe_id
from importers.safe import SourceError, decode, parse_yaml_documents, read_bytes
from importers.summary import ImportSummary
from loaders.problems import Problem
from loaders.sources import Limits

DEFAULT_NAMESPACE = "default"
MODEL_TYPES = frozenset({"model", "ml-model", "llm", "ai-agent"})
MODEL_KIND = "airesource"
KIND_ANNOTATION = "tomgraph.io/kind"
APP_KINDS = frozenset({"component", "system", "resource", MODEL_KIND})
LIFECYCLE_STAGES = {
    "models": {"experimental": "pilot", "production": "production", "deprecated": "retired"},
    "systems": {"experimental": "build", "production": "production", "deprecated": "retired"},
}
DEFAULT_STAGE = "production"
_METADATA_USED = frozenset({"name", "namespace", "title", "description", "tags", "labels", "uid", "etag"})
_SPEC_USED = {
    "group": {"parent", "children", "members", "profile"},
    "user": {"memberOf", "profile"},
    "app": {"owner", "lifecycle", "type", "dependsOn", "dependencyOf", "consumesApis", "providesApis"},
}


@dataclass
class CatalogEntity:
    kind: str  # lower case
    namespace: str  # lower case
    name: str  # as written
    doc: dict[str, Any]
    place: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name.lower())

    @property
    def metadata(self) -> dict[str, Any]:
        value = self.doc.get("metadata")
        return value if isinstance(value, dict) else {}

    @property
    def spec(self) -> dict[str, Any]:
        value = self.doc.get("spec")
        return value if isinstance(value, dict) else {}

    @property
    def source_kind(self) -> str:
        return str(self.doc.get("kind"))


def entity_id(kind: str, namespace: str, name: str) -> str:
    """`kind:name`, or `kind:namespace.name` outside the default namespace (ids unique across namespaces)."""
    local = name.lower() if namespace == DEFAULT_NAMESPACE else f"{namespace}.{name.lower()}"
    return safe_id(f"{kind}:{local}")


def parse_ref(ref: str, default_kind: str, default_namespace: str) -> tuple[str, str, str]:
    """(kind, namespace, name) of an entity reference, lower case, defaults filled (Backstage's rules)."""
    text = ref.strip()
    kind, sep, rest = text.partition(":")
    if not sep:
        kind, rest = default_kind, text
    namespace, sep, name = rest.partition("/")
    if not sep:
        namespace, name = default_namespace, rest
    return kind.lower(), namespace.lower(), name.lower()


def read_catalog(path: Path, limits: Limits) -> list[CatalogEntity]:
    """Every entity of the catalog file, or of the `*.yaml`/`*.yml` files under a directory."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".yaml", ".yml"))
        if not files:
            raise SourceError([Problem(str(path), "path", "the directory holds no .yaml or .yml files")])
        base = path
    else:
        files, base = [path], path.parent
    entities: list[CatalogEntity] = []
    problems: list[Problem] = []
    for file in files:
        name = str(file.relative_to(base))
        try:
            documents = parse_yaml_documents(decode(read_bytes(file, limits), name), name, limits)
        except SourceError as e:
            problems += e.problems
            continue
        for doc, line in documents:
            place = f"{name}:{line}"
            if doc is None:
                continue
            metadata = doc.get("metadata") if isinstance(doc, dict) else None
            if not isinstance(doc, dict) or not isinstance(doc.get("kind"), str) or not isinstance(metadata, dict):
                problems.append(Problem(place, "kind", "not a catalog entity (needs kind and metadata)"))
                continue
            if not isinstance(metadata.get("name"), str) or not metadata["name"].strip():
                problems.append(Problem(place, "metadata.name", "required"))
                continue
            namespace = str(metadata.get("namespace") or DEFAULT_NAMESPACE).lower()
            entities.append(CatalogEntity(doc["kind"].lower(), namespace, metadata["name"], doc, place))
    if problems:
        raise SourceError(problems)
    return entities


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def _section_of(entity: CatalogEntity) -> str | None:
    if entity.kind == "group":
        return "units"
    if entity.kind == "user":
        return "people"
    if entity.kind not in APP_KINDS:
        return None
    annotations = entity.metadata.get("annotations")
    marked = isinstance(annotations, dict) and str(annotations.get(KIND_ANNOTATION, "")).lower() == "model"
    is_model = entity.kind == MODEL_KIND or marked or str(entity.spec.get("type", "")).lower() in MODEL_TYPES
    return "models" if is_model else "systems"


class _Catalog:
    def __init__(self, entities: list[CatalogEntity], summary: ImportSummary) -> None:
        self.summary = summary
        self.by_key: dict[tuple[str, str, str], CatalogEntity] = {}
        for e in entities:
            if e.key in self.by_key:
                summary.leave_out(e.place, f"{e.source_kind} {e.name!r}", f"duplicate of {self.by_key[e.key].place}")
            else:
                self.by_key[e.key] = e
        self.providers: dict[tuple[str, str, str], list[CatalogEntity]] = {}
        for e in self.by_key.values():
            for ref in _as_list(e.spec.get("providesApis")):
                self.providers.setdefault(parse_ref(ref, "api", e.namespace), []).append(e)

    def find(self, ref: str, default_kind: str, context: CatalogEntity, field: str) -> CatalogEntity | None:
        target = self.by_key.get(parse_ref(ref, default_kind, context.namespace))
        if target is None:
            self.summary.leave_out(context.place, field, f"{ref!r} resolves to nothing in the catalog")
        return target

    def owner_role(self, ref: str, context: CatalogEntity, field: str) -> str | None:
        target = self.find(ref, "group", context, field)
        if target is None:
            return None
        if target.kind == "group":
            return group_role_id(target)
        if target.kind == "user":
            return user_role_id(target)
        self.summary.leave_out(context.place, field, f"{ref!r} is a {target.source_kind}, not a Group or User")
        return None


def _id(e: CatalogEntity) -> str:
    return entity_id(e.kind, e.namespace, e.name)


def group_role_id(group: CatalogEntity) -> str:
    return f"{_id(group)}:owner"


def user_role_id(user: CatalogEntity) -> str:
    return f"{_id(user)}:role"


def _display_name(e: CatalogEntity) -> str:
    profile = e.spec.get("profile")
    shown = profile.get("displayName") if isinstance(profile, dict) else None
    return str(shown or e.metadata.get("title") or e.name)


def _common(e: CatalogEntity) -> dict[str, Any]:
    data: dict[str, Any] = {"id": _id(e), "name": _display_name(e)}
    if e.metadata.get("description"):
        data["description"] = str(e.metadata["description"])
    tags = _as_list(e.metadata.get("tags"))
    if tags:
        data["tags"] = tags
    labels = e.metadata.get("labels")
    if isinstance(labels, dict) and labels:
        data["properties"] = {str(k): str(v) for k, v in labels.items()}
    return data


def import_backstage(path: Path, limits: Limits | None = None) -> tuple[dict[str, Any], ImportSummary]:
    """Read a Backstage catalog (file or directory) and return (bundle dict, summary).

    Raises SourceError (every problem with its place) for unreadable YAML or documents that are
    not catalog entities.
    """
    summary = ImportSummary(str(path))
    catalog = _Catalog(read_catalog(path, limits or Limits()), summary)
    builder = BundleBuilder(summary)
    # Users hold roles that are made from groups, so every group is added first.
    ordered = sorted(catalog.by_key.values(), key=lambda e: (e.kind != "group", e.kind != "user"))
    for e in ordered:
        section = _section_of(e)
        if section is None:
            summary.no_place(e.source_kind)
            continue
        for key, value in e.metadata.items():
            if key == "annotations" and isinstance(value, dict):
                for annotation in value:
                    if annotation != KIND_ANNOTATION:
                        summary.no_place(f"{e.source_kind} annotation {annotation}")
            elif key not in _METADATA_USED:
                summary.no_place(f"{e.source_kind} metadata.{key}")
        used = _SPEC_USED["group" if e.kind == "group" else "user" if e.kind == "user" else "app"]
        for key in e.spec:
            if key not in used:
                summary.no_place(f"{e.source_kind} spec.{key}")
        if section == "units":
            _group(e, catalog, builder)
        elif section == "people":
            _user(e, catalog, builder)
        else:
            _app(e, section, catalog, builder)
    return builder.finish(), summary


def _group(e: CatalogEntity, catalog: _Catalog, builder: BundleBuilder) -> None:
    unit = _common(e)
    parent = e.spec.get("parent")
    if parent:
        target = catalog.find(str(parent), "group", e, "units.parent")
        if target is not None:
            unit["parent"] = _id(target)
    builder.add("units", unit, e.place)
    role = {"id": group_role_id(e), "name": f"{_display_name(e)} owner", "unit": unit["id"]}
    builder.add("roles", role, e.place)


def _user(e: CatalogEntity, catalog: _Catalog, builder: BundleBuilder) -> None:
    person = _common(e)
    profile = e.spec.get("profile")
    if isinstance(profile, dict) and profile.get("email"):
        person["email"] = str(profile["email"])
    holds: list[str] = []
    for ref in _as_list(e.spec.get("memberOf")):
        target = catalog.find(ref, "group", e, "people.holds")
        if target is not None and target.kind == "group":
            holds.append(group_role_id(target))
    builder.add("people", person, e.place)
    for group in catalog.by_key.values():
        if group.kind == "group" and any(
            parse_ref(m, "user", group.namespace) == e.key for m in _as_list(group.spec.get("members"))
        ):
            holds.append(group_role_id(group))
    if holds:
        builder.get(person["id"]).data["holds"] = list(dict.fromkeys(holds))  # type: ignore[union-attr]


def _ensure_user_role(user: CatalogEntity, builder: BundleBuilder) -> None:
    role_id = user_role_id(user)
    if builder.get(role_id) is None:
        builder.add("roles", {"id": role_id, "name": f"{_display_name(user)} (own role)"}, user.place)
        builder.add_reference(_id(user), "holds", role_id, user.place)


def _app(e: CatalogEntity, section: str, catalog: _Catalog, builder: BundleBuilder) -> None:
    data = _common(e)
    lifecycle = str(e.spec.get("lifecycle") or "").lower()
    stage = LIFECYCLE_STAGES[section].get(lifecycle)
    if stage is None:
        stage = DEFAULT_STAGE
        why = f"lifecycle {lifecycle!r}" if lifecycle else "no lifecycle"
        builder.summary.defaults[f"{section}.stage = {stage} ({why})"] += 1
    data["stage"] = stage
    owner = e.spec.get("owner")
    if owner:
        role = catalog.owner_role(str(owner), e, f"{section}.owner")
        if role is not None:
            data["owner"] = role
            target = catalog.by_key.get(parse_ref(str(owner), "group", e.namespace))
            if target is not None and target.kind == "user":
                _ensure_user_role(target, builder)
    depends: list[str] = []
    for ref in _as_list(e.spec.get("dependsOn")):
        target = catalog.find(ref, "component", e, f"{section}.depends_on")
        if target is not None:
            depends.append(_id(target))
    for ref in _as_list(e.spec.get("consumesApis")):
        providers = catalog.providers.get(parse_ref(ref, "api", e.namespace), [])
        if not providers:
            builder.summary.leave_out(e.place, f"{section}.depends_on", f"API {ref!r} has no provider in the catalog")
        depends += [_id(p) for p in providers if p.key != e.key]
    if depends:
        data["depends_on"] = list(dict.fromkeys(depends))
    builder.add(section, data, e.place, merge=True)
    for ref in _as_list(e.spec.get("dependencyOf")):
        target = catalog.find(ref, "component", e, f"{section}.dependency_of")
        dependent = _section_of(target) if target is not None else None
        if target is not None and dependent in ("models", "systems"):
            # Entities are added in one pass; the dependent may come later, so it is merged in.
            builder.add(dependent, {"id": _id(target), "depends_on": [data["id"]]}, e.place, merge=True)
        elif target is not None:
            builder.summary.leave_out(e.place, f"{section}.dependency_of", f"{ref!r} is a {target.source_kind}")
