"""Interactive graph views: a focus entity's neighbourhood, or a kind-filtered slice, as one
self-contained, offline HTML page with the gaps marked.

Three steps, each usable on its own:

- ``fetch_view(db, scenario, ...) -> ViewData``: the query side (Neo4j reads and ``run_checks``).
- ``view_json(data, ...) -> dict``: the JSON contract below, for the page and for
  ``GET /scenarios/{s}/view?...&format=json`` (the served page's double-click fetches it).
- ``render_view(data, ...) -> str``: a pure function from query results to HTML, through a pyvis
  ``Network`` and ``generate_html()`` with our own template; vis-network's script and style are
  read from the installed pyvis package and inlined, so the page makes no network request.

``view_html(db, scenario, ...)`` combines ``fetch_view`` and ``render_view``.

The JSON contract (``version`` 1)::

    {"version": 1, "scenario": str, "as_of": "YYYY-MM-DD", "focus": str | null, "depth": int,
     "kinds": [section, ...] | null, "layout": "force" | "hierarchy", "node_cap": int,
     "total": int,            # entities in the selection, drawn or not
     "grouped": bool,         # true when total > node_cap: nodes are one summary per kind
     "message": str | null,   # how to narrow the view, when grouped
     "legend": [{"kind", "label", "colour", "shape"}],
     "nodes": [{"id", "kind", "name", "label", "fields": {name: str | list[str] | bool},
                "findings": [{"check", "severity", "message", "remediation", "accountable",
                              "waived": {"accepted_by", "reason", "expires"} | absent}],
                "open": int, "waived": int, "resource": "/scenarios/{s}/entities/{id}" | null,
                "count": int | absent,   # group nodes: entities in the group
                "level": int | absent,   # hierarchy layout only
                ...vis-network style: "shape", "color", "borderWidth", "shapeProperties", "size"}],
     "edges": [{"id", "from", "to", "type", "label", "count": int | absent, ...vis style}]}

Group node ids are ``group:<section>``; entity ids are the bundle's ids. Clients add nodes and
edges by id, ignoring those they already have.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from graph.consistent import ScenarioView, consistent_view
from graph.db import Database
from graph.errors import NotFound
from graph.ontology import KINDS, Kind, kinds_by_label, kinds_by_section, rel_types
from queries.catalog import SEVERITY_RANK, Catalog, load_catalog
from queries.findings import Finding
from queries.runner import run_checks_in

Layout = Literal["force", "hierarchy"]
LAYOUTS: tuple[str, ...] = ("force", "hierarchy")
MAX_DEPTH = 5
DEFAULT_NODE_CAP = 1000
CONTRACT_VERSION = 1
GAP_COLOUR = "#d32f2f"
WAIVED_COLOUR = "#8d8d8d"
TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATE_NAME = "view.html.j2"


@dataclass(frozen=True)
class ViewNode:
    id: str
    kind: str
    """The bundle section, e.g. ``models``."""
    name: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class ViewEdge:
    source: str
    target: str
    type: str


@dataclass(frozen=True)
class ViewGroup:
    kind: str
    count: int
    open: int = 0
    """Entities of the group with at least one open finding."""


@dataclass(frozen=True)
class GroupEdge:
    source: str
    target: str
    type: str
    count: int


@dataclass(frozen=True)
class ViewData:
    """What one view shows: the entities and relationships, or (above the cap) their groups."""

    scenario: str
    as_of: date
    focus: str | None = None
    depth: int = 1
    kinds: tuple[str, ...] | None = None
    node_cap: int = DEFAULT_NODE_CAP
    total: int = 0
    nodes: tuple[ViewNode, ...] = ()
    edges: tuple[ViewEdge, ...] = ()
    groups: tuple[ViewGroup, ...] = ()
    group_edges: tuple[GroupEdge, ...] = ()

    @property
    def grouped(self) -> bool:
        return self.total > self.node_cap


@dataclass(frozen=True)
class KindStyle:
    kind: str
    label: str
    colour: str
    shape: str


@cache
def style_table() -> dict[str, KindStyle]:
    """Colour and shape per kind (bundle section), from the ontology declaration."""
    return {k.section: KindStyle(k.section, k.label, k.colour, k.shape) for k in KINDS}


def parse_kinds(kinds: Sequence[str] | str | None) -> tuple[str, ...] | None:
    """Bundle section names (``models,vendors``; labels like ``Model`` are accepted too)."""
    if kinds is None:
        return None
    items = kinds.split(",") if isinstance(kinds, str) else list(kinds)
    by_label = {k.label.lower(): k.section for k in KINDS}
    out: list[str] = []
    unknown: list[str] = []
    for raw in items:
        name = raw.strip()
        if not name:
            continue
        section = name if name in kinds_by_section() else by_label.get(name.lower())
        if section is None:
            unknown.append(name)
        elif section not in out:
            out.append(section)
    if unknown:
        raise ValueError(f"unknown kind(s): {', '.join(unknown)}; known: {', '.join(kinds_by_section())}")
    return tuple(out) or None


def _kind_of(labels: Iterable[str]) -> Kind | None:
    return next((kinds_by_label()[x] for x in labels if x in kinds_by_label()), None)


def _plain(value: Any) -> Any:
    """A node property as JSON: dates as ISO strings, lists of plain values."""
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    iso = getattr(value, "iso_format", None) or getattr(value, "isoformat", None)
    return iso() if callable(iso) else str(value)


_NEIGHBOURS = """
MATCH (a:Entity {scenario: $scenario}) WHERE a.id IN $frontier
MATCH (a)-[r]-(b:Entity {scenario: $scenario}) WHERE type(r) IN $rel_types
RETURN DISTINCT b.id AS id
"""
_NODES_BY_ID = """
MATCH (n:Entity {scenario: $scenario}) WHERE n.id IN $ids
RETURN labels(n) AS labels, properties(n) AS props
"""
_EDGES_BY_ID = """
MATCH (a:Entity {scenario: $scenario})-[r]->(b:Entity {scenario: $scenario})
WHERE a.id IN $ids AND b.id IN $ids AND type(r) IN $rel_types
RETURN a.id AS source, type(r) AS type, b.id AS target
"""
_IDS_BY_LABEL = """
MATCH (n:Entity {scenario: $scenario}) WHERE any(l IN labels(n) WHERE l IN $labels)
RETURN n.id AS id, [l IN labels(n) WHERE l <> 'Entity'][0] AS label
"""
_LABELS_BY_ID = """
MATCH (n:Entity {scenario: $scenario}) WHERE n.id IN $ids
RETURN n.id AS id, [l IN labels(n) WHERE l <> 'Entity'][0] AS label
"""
_GROUP_EDGES_BY_ID = """
MATCH (a:Entity {scenario: $scenario})-[r]->(b:Entity {scenario: $scenario})
WHERE a.id IN $ids AND b.id IN $ids AND type(r) IN $rel_types
RETURN [l IN labels(a) WHERE l <> 'Entity'][0] AS source, type(r) AS type,
       [l IN labels(b) WHERE l <> 'Entity'][0] AS target, count(*) AS count
"""
_FOCUS = "MATCH (n:Entity {scenario: $scenario, id: $focus}) RETURN n.id AS id"


def fetch_view(
    db: Database,
    scenario: str,
    *,
    focus: str | None = None,
    depth: int = 1,
    kinds: Sequence[str] | str | None = None,
    as_of: date | None = None,
    node_cap: int = DEFAULT_NODE_CAP,
    catalog: Catalog | None = None,
    at: date | None = None,
) -> ViewData:
    """The entities of a view, their relationships and their findings (run_checks as of ``as_of``).

    With ``focus``, the entity and its neighbours up to ``depth`` (0-5) hops, in either direction;
    ``kinds`` then keeps only entities of those kinds (and the focus). Without ``focus``, every
    entity of ``kinds`` (all kinds when None). Above ``node_cap`` entities the view holds one
    group per kind instead. Raises NotFound for a missing scenario or focus, ValueError for a
    bad depth or kind. ``at``: the version of the scenario in force that day (default today);
    every read is of that one version (its copy never changes once published).
    """
    if not 0 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be between 0 and {MAX_DEPTH}, not {depth}")
    if node_cap < 1:
        raise ValueError("node_cap must be at least 1")
    sections = parse_kinds(kinds)
    as_of = as_of or date.today()
    catalog = catalog or load_catalog()
    with consistent_view(db, scenario, at) as view:
        if not view.found:
            raise NotFound(f"scenario '{scenario}' has not been loaded")
        return _fetch(view, catalog, scenario, focus, depth, sections, as_of, node_cap)


def _fetch(
    view: ScenarioView,
    catalog: Catalog,
    scenario: str,
    focus: str | None,
    depth: int,
    sections: tuple[str, ...] | None,
    as_of: date,
    node_cap: int,
) -> ViewData:
    db = view
    physical = view.physical
    base: dict[str, Any] = {"scenario": physical, "rel_types": list(rel_types())}
    labels = [kinds_by_section()[s].label for s in (sections or kinds_by_section())]

    label_of: dict[str, str] = {}
    if focus is not None:
        if not db.read(_FOCUS, {"scenario": physical, "focus": focus}):
            raise NotFound(f"no entity '{focus}' in scenario '{scenario}'")
        seen = {focus}
        frontier = [focus]
        for _ in range(depth):
            rows = db.read(_NEIGHBOURS, {**base, "frontier": frontier})
            frontier = [r["id"] for r in rows if r["id"] not in seen]
            seen.update(frontier)
            if not frontier:
                break
        rows = db.read(_LABELS_BY_ID, {**base, "ids": sorted(seen)})
        label_of = {r["id"]: r["label"] for r in rows if r["label"] in labels or r["id"] == focus}
    else:
        rows = db.read(_IDS_BY_LABEL, {**base, "labels": labels})
        label_of = {r["id"]: r["label"] for r in rows}
    ids = sorted(label_of)

    findings = run_checks_in(view, catalog, as_of)["findings"]
    by_subject: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        for subject in finding["subjects"]:
            if subject in label_of:
                by_subject[subject].append(finding)

    common = ViewData(scenario, as_of, focus, depth, sections, node_cap, total=len(ids))
    if len(ids) > node_cap:
        counts = Counter(label_of.values())
        open_counts = Counter(label_of[i] for i, fs in by_subject.items() if any("waived" not in f for f in fs))
        groups = tuple(
            ViewGroup(kinds_by_label()[label].section, count, open_counts[label])
            for label, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        group_edges = tuple(
            GroupEdge(
                kinds_by_label()[r["source"]].section, kinds_by_label()[r["target"]].section, r["type"], r["count"]
            )
            for r in db.read(_GROUP_EDGES_BY_ID, {**base, "ids": ids})
        )
        return replace(common, groups=groups, group_edges=group_edges)

    nodes: list[ViewNode] = []
    for row in db.read(_NODES_BY_ID, {**base, "ids": ids}):
        props: dict[str, Any] = dict(row["props"])
        k = _kind_of(row["labels"])
        if k is None:
            continue
        entity_id = str(props.pop("id"))
        props.pop("scenario", None)
        name = str(props.pop("name", "") or "")
        fields = {key: _plain(value) for key, value in sorted(props.items())}
        nodes.append(ViewNode(entity_id, k.section, name, fields, tuple(by_subject.get(entity_id, ()))))
    nodes.sort(key=lambda n: (n.id != focus, n.kind, n.id))
    edges = tuple(ViewEdge(r["source"], r["target"], r["type"]) for r in db.read(_EDGES_BY_ID, {**base, "ids": ids}))
    return replace(common, nodes=tuple(nodes), edges=edges)


def entity_resource(scenario: str, entity_id: str) -> str:
    return f"/scenarios/{quote(scenario, safe='')}/entities/{quote(entity_id, safe='')}"


def narrow_message(data: ViewData) -> str:
    return (
        f"This view has {data.total:,} entities, more than the cap of {data.node_cap:,}, so they are "
        "grouped by kind. To see entities, narrow the view: focus on one entity and a small depth "
        "(tomgraph view --focus ID --depth 1, or ?focus=ID&depth=1), or pick fewer kinds "
        "(--kinds models,vendors)."
    )


def _finding_json(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "check": f["check"],
        "severity": f["severity"],
        "message": f["message"],
        "remediation": f["remediation"],
        "accountable": f["accountable"],
    }
    if "waived" in f:
        out["waived"] = dict(f["waived"])
    return out


def _node_style(kind: str, open_count: int, waived_count: int) -> dict[str, Any]:
    style = style_table()[kind]
    border = GAP_COLOUR if open_count else (WAIVED_COLOUR if waived_count else style.colour)
    out: dict[str, Any] = {
        "shape": style.shape,
        "color": {
            "background": style.colour,
            "border": border,
            "highlight": {"background": style.colour, "border": "#212121"},
            "hover": {"background": style.colour, "border": border},
        },
        "borderWidth": 4 if open_count or waived_count else 1,
    }
    if not open_count and waived_count:
        out["shapeProperties"] = {"borderDashes": [6, 4]}
    if style.shape == "text":
        out["font"] = {"color": GAP_COLOUR if open_count else "#424242"}
    return out


def _hierarchy_levels(node_ids: Sequence[str], edges: Iterable[tuple[str, str, str]]) -> dict[str, int]:
    """Org-chart levels: 0 for a role that reports to no one in the view, one more per line below."""
    manager: dict[str, str] = {}
    for source, target, rel in edges:
        if rel == "REPORTS_TO" and source != target:
            manager.setdefault(source, target)
    levels: dict[str, int] = {}
    for start in node_ids:
        chain = [start]
        while chain[-1] in manager and manager[chain[-1]] not in chain and chain[-1] not in levels:
            chain.append(manager[chain[-1]])
        base = levels.get(chain[-1], 0)
        for i, node in enumerate(reversed(chain)):
            levels.setdefault(node, base + i)
    return levels


def view_json(data: ViewData, *, layout: Layout = "force") -> dict[str, Any]:
    """The view as the JSON contract in this module's docstring (pure)."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}")
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    if data.grouped:
        biggest = max((g.count for g in data.groups), default=1)
        for g in data.groups:
            style = style_table()[g.kind]
            nodes.append(
                {
                    "id": f"group:{g.kind}",
                    "kind": g.kind,
                    "name": f"{style.label}: {g.count:,} entities",
                    "label": f"{style.label}\n{g.count:,} entities" + (f"\n{g.open:,} with gaps" if g.open else ""),
                    "fields": {"entities": str(g.count), "with open findings": str(g.open)},
                    "findings": [],
                    "open": g.open,
                    "waived": 0,
                    "resource": None,
                    "count": g.count,
                    **_node_style(g.kind, g.open, 0),
                    "size": 15 + 30 * math.log1p(g.count) / math.log1p(biggest),
                }
            )
        for i, e in enumerate(data.group_edges):
            edges.append(
                {
                    "id": f"g{i}",
                    "from": f"group:{e.source}",
                    "to": f"group:{e.target}",
                    "type": e.type,
                    "label": f"{e.type} ×{e.count:,}",
                    "count": e.count,
                    "width": 1 + 4 * math.log1p(e.count) / math.log1p(max(x.count for x in data.group_edges)),
                }
            )
    else:
        levels = (
            _hierarchy_levels([n.id for n in data.nodes], ((e.source, e.target, e.type) for e in data.edges))
            if layout == "hierarchy"
            else {}
        )
        for n in data.nodes:
            open_count = sum(1 for f in n.findings if "waived" not in f)
            waived_count = len(n.findings) - open_count
            findings = sorted(n.findings, key=lambda f: ("waived" in f, SEVERITY_RANK[f["severity"]], f["check"]))
            node: dict[str, Any] = {
                "id": n.id,
                "kind": n.kind,
                "name": n.name,
                "label": n.name or n.id,
                "fields": dict(n.fields),
                "findings": [_finding_json(f) for f in findings],
                "open": open_count,
                "waived": waived_count,
                "resource": entity_resource(data.scenario, n.id),
                **_node_style(n.kind, open_count, waived_count),
            }
            if n.id == data.focus:
                node["size"] = 35
            if layout == "hierarchy":
                node["level"] = levels.get(n.id, 0)
            nodes.append(node)
        for link in data.edges:
            edge: dict[str, Any] = {"id": f"{link.source}|{link.type}|{link.target}"}
            edge.update({"from": link.source, "to": link.target, "type": link.type, "label": link.type})
            if link.type == "ESCALATES_TO":
                edge["dashes"] = True
            edges.append(edge)
    return {
        "version": CONTRACT_VERSION,
        "scenario": data.scenario,
        "as_of": data.as_of.isoformat(),
        "focus": data.focus,
        "depth": data.depth,
        "kinds": list(data.kinds) if data.kinds else None,
        "layout": layout,
        "node_cap": data.node_cap,
        "total": data.total,
        "grouped": data.grouped,
        "message": narrow_message(data) if data.grouped else None,
        "legend": [vars(s) for s in style_table().values()],
        "nodes": nodes,
        "edges": edges,
    }


@cache
def _vis_assets() -> tuple[str, str]:
    """vis-network's script and style, from the installed pyvis package (no CDN)."""
    lib = resources.files("pyvis") / "lib" / "vis-9.1.2"
    return (lib / "vis-network.min.js").read_text("utf-8"), (lib / "vis-network.css").read_text("utf-8")


def script_json(value: Any) -> str:
    """JSON safe inside a <script> element: no '<', '>', '&' or non-ASCII can end or confuse it."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _inline_script(text: str) -> str:
    """A library's script, made safe to put between <script> tags."""
    return text.replace("</script", "<\\/script").replace("<!--", "<\\!--")


def render_view(
    data: ViewData,
    *,
    layout: Layout = "force",
    served: bool = False,
    api_base: str = "",
    title: str | None = None,
    layout_budget_ms: int = 2500,
) -> str:
    """The view as one self-contained HTML page (pure: no database, no network, no files written).

    ``served`` enables double-click expansion, fetching ``{api_base}/scenarios/{s}/view?focus=ID
    &depth=1&format=json``; ``api_base`` also prefixes the entity links ("" = same origin).
    The force layout stabilises once and is then frozen; past ``layout_budget_ms`` after the
    page's script starts (not navigation: a served page may wait long for the API) it is frozen
    as it stands, so a big view never keeps the browser busy.
    """
    from pyvis.network import Network

    payload = view_json(data, layout=layout)
    net = Network(height="100%", width="100%", directed=True, cdn_resources="local")
    for node in payload["nodes"]:
        attrs = {k: v for k, v in node.items() if k not in ("id", "label", "shape", "color")}
        net.add_node(node["id"], label=node["label"], shape=node["shape"], color=node["color"], **attrs)
    known = set(net.node_ids)
    for edge in payload["edges"]:
        if edge["from"] in known and edge["to"] in known:
            # Appended directly: pyvis's add_edge scans every node per edge (quadratic).
            net.edges.append({**edge, "arrows": "to"})
    meta = {k: v for k, v in payload.items() if k not in ("nodes", "edges")}
    meta.update({"served": served, "api_base": api_base.rstrip("/"), "layout_budget_ms": layout_budget_ms})
    vis_js, vis_css = _vis_assets()
    net.set_template_dir(str(TEMPLATE_DIR), TEMPLATE_NAME)
    net.templateEnv.autoescape = True
    net.templateEnv.globals.update(
        page_title=title or _default_title(data),
        view_json=script_json({**meta, "nodes": net.nodes, "edges": net.edges}),
        vis_js=_inline_script(vis_js),
        vis_css=vis_css.replace("</", "<\\/"),
        connect_src=_connect_src(api_base),
    )
    html: str = net.generate_html(name="view.html")  # the name is only checked; nothing is written
    return html


def _connect_src(api_base: str) -> str:
    """The served page may fetch from its own origin, or the API's origin when it is elsewhere."""
    parts = urlsplit(api_base)
    if parts.scheme in ("http", "https") and parts.netloc and not any(c in parts.netloc for c in " ;'\""):
        return f"'self' {parts.scheme}://{parts.netloc}"
    return "'self'"


def _default_title(data: ViewData) -> str:
    what = f"around {data.focus} (depth {data.depth})" if data.focus else ", ".join(data.kinds or ("all kinds",))
    return f"tomgraph view: {data.scenario}, {what}"


def org_chart_kinds(layout: str, focus: str | None, kinds: Sequence[str] | str | None) -> Sequence[str] | str | None:
    """The hierarchy layout with neither focus nor kinds draws the org chart: the roles, with their
    reporting and escalation lines. Otherwise ``kinds`` unchanged."""
    if layout == "hierarchy" and focus is None and not kinds:
        return ("roles",)
    return kinds


def view_html(
    db: Database,
    scenario: str,
    *,
    focus: str | None = None,
    depth: int = 1,
    kinds: Sequence[str] | str | None = None,
    as_of: date | None = None,
    node_cap: int = DEFAULT_NODE_CAP,
    catalog: Catalog | None = None,
    layout: Layout = "force",
    served: bool = False,
    api_base: str = "",
) -> str:
    """fetch_view then render_view (kinds defaulted by ``org_chart_kinds``)."""
    kinds = org_chart_kinds(layout, focus, kinds)
    data = fetch_view(
        db, scenario, focus=focus, depth=depth, kinds=kinds, as_of=as_of, node_cap=node_cap, catalog=catalog
    )
    return render_view(data, layout=layout, served=served, api_base=api_base)


__all__ = [
    "GroupEdge",
    "ViewData",
    "ViewEdge",
    "ViewGroup",
    "ViewNode",
    "fetch_view",
    "org_chart_kinds",
    "parse_kinds",
    "render_view",
    "script_json",
    "style_table",
    "view_html",
    "view_json",
]
