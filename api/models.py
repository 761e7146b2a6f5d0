"""Response and request bodies, typed so that the OpenAPI document says exactly what comes back."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, JsonValue, field_validator

from graph.ontology import KINDS, SEVERITIES

SECTIONS: tuple[str, ...] = tuple(k.section for k in KINDS)
KindName = Literal[
    "units",
    "people",
    "roles",
    "data_domains",
    "vendors",
    "models",
    "workflows",
    "use_cases",
    "kpis",
    "controls",
    "access",
    "systems",
    "delegations",
    "policies",
    "evidence",
    "incidents",
    "initiatives",
    "assessments",
    "meta",
]
Severity = Literal["critical", "high", "medium", "low"]
assert set(SECTIONS) == set(KindName.__args__) and Severity.__args__ == SEVERITIES  # type: ignore[attr-defined]


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class ScenarioSummary(BaseModel):
    name: str
    entity_count: int
    relationship_count: int
    loaded_at: str | None = Field(description="When the last load committed (ISO 8601, UTC).")


class ScenarioList(BaseModel):
    scenarios: list[ScenarioSummary]


class VersionInfo(BaseModel):
    seq: int = Field(description="The version's number; versions are numbered in the order they were loaded.")
    effective: str = Field(description="The day from which the version is in force (YYYY-MM-DD).")
    loaded_at: str = Field(description="When the load committed (ISO 8601, UTC).")
    entity_count: int
    relationship_count: int
    changes: dict[str, dict[str, dict[str, int]]] = Field(
        description="What the load changed: created, updated and removed per kind and relationship type."
    )
    stored: str = Field(description="`copy`, `cached` (rebuilt and kept), or `delta` (rebuilt on first read).")


class HistoryAnswer(BaseModel):
    scenario: str
    versions: list[VersionInfo]


class EntityRef(BaseModel):
    id: str
    kind: str = Field(description="The bundle section of the entity, e.g. `models`.")
    name: str | None


class EntityPage(BaseModel):
    scenario: str
    items: list[EntityRef]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class Relationship(BaseModel):
    type: str = Field(description="Neo4j relationship type, e.g. `OWNS`.")
    via: str | None = Field(description="The bundle field it comes from, e.g. `models.owner`.")
    dependency: bool = Field(description="Whether it is a dependency edge (followed by /dependencies and /impact).")
    entity: EntityRef = Field(description="The entity at the other end.")


class EntityDetail(BaseModel):
    scenario: str
    id: str
    kind: str
    name: str | None
    fields: dict[str, JsonValue] = Field(description="Every other stored field; dates as YYYY-MM-DD.")
    outgoing: list[Relationship]
    incoming: list[Relationship]
    outgoing_total: int = Field(description="Relationships out (all of them are in `outgoing`).")
    incoming_total: int = Field(description="Relationships in (all of them are in `incoming`).")


class DependencyHit(BaseModel):
    id: str
    kind: str
    name: str | None
    distance: int = Field(ge=1, le=5, description="Dependency edges between the start and this entity.")
    path: list[str] = Field(description="Ids from the start to this entity along a shortest route (the least by id).")


class DependencyPage(BaseModel):
    scenario: str
    id: str
    direction: Literal["upstream", "downstream"]
    depth: int
    total: int = Field(description="Hits over all pages.")
    items: list[DependencyHit] = Field(description="Ordered by (distance, kind, id).")
    next_cursor: str | None


class KindCount(BaseModel):
    kind: str
    count: int


class ImpactPage(BaseModel):
    scenario: str
    id: str
    kind: str
    name: str | None
    depth: int = Field(description="How far downstream was searched (5).")
    total: int = Field(description="Entities affected, over all pages.")
    counts: list[KindCount] = Field(description="Entities affected per kind, over all pages.")
    by_kind: dict[str, list[DependencyHit]] = Field(
        description="This page's hits grouped by kind; the page is cut from the (distance, kind, id) order."
    )
    next_cursor: str | None


class PathStep(BaseModel):
    type: str
    start: str = Field(description="Id at the relationship's start (relationships are followed either way).")
    end: str


class GraphPath(BaseModel):
    length: int
    nodes: list[EntityRef]
    relationships: list[PathStep]


class PathsAnswer(BaseModel):
    scenario: str
    source: str = Field(serialization_alias="from")
    target: str = Field(serialization_alias="to")
    max: int
    paths: list[GraphPath] = Field(description="Every shortest path (ordered by ids along it), at most 100.")
    truncated: bool = Field(description="True when more than 100 shortest paths exist and the rest were cut.")


class CheckInfo(BaseModel):
    id: str
    revision: int
    title: str
    severity: Severity
    escalation: dict[Severity, str] = Field(
        default_factory=dict,
        description="When a finding gets a higher severity than `severity`: severity -> condition "
        "(e.g. `critical: risk tier high`); empty when it never does.",
    )
    rationale: str
    remediation: str
    parameters: dict[str, JsonValue]
    cypher: str


class CheckList(BaseModel):
    checks: list[CheckInfo]


class WaivedBy(BaseModel):
    accepted_by: str
    reason: str
    expires: str


class FindingOut(BaseModel):
    check: str
    severity: Severity
    subjects: list[str]
    accountable: str | None
    message: str
    remediation: str
    details: dict[str, Any] | None = Field(
        default=None, exclude_if=lambda v: v is None, description="Extra fields some checks return (`missing`...)."
    )
    waived: WaivedBy | None = Field(default=None, exclude_if=lambda v: v is None, description="Only when waived.")


class ExpiredWaiverOut(BaseModel):
    check: str
    subjects: list[str]
    accepted_by: str
    reason: str
    expires: str


class FindingsAnswer(BaseModel):
    scenario: str
    as_of: str
    findings: list[FindingOut]
    expired_waivers: list[ExpiredWaiverOut] = Field(default_factory=list)


class QueryRequest(BaseModel):
    cypher: Annotated[str, Field(min_length=1, max_length=100_000)]
    params: dict[str, JsonValue] = Field(default_factory=dict, description="Query parameters; `scenario` is set.")

    @field_validator("params")
    @classmethod
    def _integers_fit_neo4j(cls, params: dict[str, JsonValue]) -> dict[str, JsonValue]:
        """Neo4j integers are 64-bit; a larger JSON integer is the caller's error, not a 500."""
        stack: list[Any] = [params]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                stack.extend(value.values())
            elif isinstance(value, list):
                stack.extend(value)
            elif isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX:
                raise ValueError(f"integer {value} does not fit in 64 bits")
        return params


class QueryAnswer(BaseModel):
    columns: list[str]
    rows: list[dict[str, JsonValue]]
    row_count: int
    truncated: bool = Field(description="True when the row cap cut the result.")
    warnings: list[str] = Field(
        default_factory=list,
        description="What the caller should know about the answer, e.g. that the query does not use $scenario.",
    )


class ChangeCounts(BaseModel):
    created: int
    updated: int
    removed: int


class LoadAnswer(BaseModel):
    scenario: str
    entity_count: int
    relationship_count: int
    seconds: float
    created: int
    updated: int
    removed: int
    entities: dict[str, ChangeCounts] = Field(description="Changes per label, only labels that changed.")
    relationships: dict[str, ChangeCounts] = Field(description="Changes per relationship type.")


class WaiversAnswer(BaseModel):
    scenario: str
    waivers: int = Field(description="How many waivers the scenario now has.")


class PersonRef(BaseModel):
    id: str
    name: str | None


class RoleRef(BaseModel):
    id: str
    name: str | None


class RightHolder(BaseModel):
    role: RoleRef
    people: list[PersonRef] = Field(description="People who hold the role.")
    vacant: bool = Field(description="True when nobody holds the role.")
    delegation: str | None = Field(
        default=None,
        description="Set when the person holds the right only through this delegation (in force on the day "
        "asked about) from `role`.",
    )


class DecisionRight(BaseModel):
    right: str = Field(description="e.g. `ownership`, `change_approval`, `deployment_approval`, `shutdown`.")
    relationship: str = Field(description="The relationship type that grants it, e.g. `APPROVES_CHANGE`.")
    verb: str = Field(description="How the right reads after a role's name, e.g. `approves its changes`.")
    holders: list[RightHolder] = Field(description="Roles that hold the right, by role id; empty when nobody does.")
    people: list[str] = Field(description="Ids of every person who can exercise the right through a role.")
    sentence: str = Field(description="The right in words.")


class WhoAnswer(BaseModel):
    scenario: str
    id: str
    kind: str
    name: str | None
    rights: list[DecisionRight] = Field(description="Every decision right the ontology allows over this kind.")
    sentences: list[str] = Field(description="The answer in words, one sentence per right after an introduction.")


class NeighbourRel(BaseModel):
    type: str
    outgoing: bool = Field(description="True when the relationship points from the centre to the neighbour.")


class Neighbour(BaseModel):
    id: str
    kind: str
    name: str | None
    open: int = Field(description="Open (unwaived) findings naming this entity, as of `as_of`.")
    relationships: list[NeighbourRel]


class NeighbourGroup(BaseModel):
    kind: str
    count: int = Field(description="Neighbours of this kind (after the filters).")
    open: int = Field(description="Of them, entities with open findings.")
    collapsed: bool = Field(description="True when `count` exceeds `limit`: `items` is then empty.")
    items: list[Neighbour]


class NeighboursAnswer(BaseModel):
    scenario: str
    id: str
    kind: str
    name: str | None
    as_of: str
    open: int = Field(description="Open findings naming the centre entity.")
    findings: list[FindingOut] = Field(description="Findings naming the centre entity, open and waived.")
    total: int = Field(description="Neighbours over all kinds (after the filters).")
    groups: list[NeighbourGroup] = Field(description="One per kind, ordered by kind.")


class CatalogItem(BaseModel):
    id: str
    kind: str
    name: str | None
    stage: str | None
    risk_tier: str | None
    unit: str | None = Field(description="Its unit: the one it is in, else its owner's unit.")
    open: int = Field(description="Open findings naming it, as of the day asked.")


class CatalogPage(BaseModel):
    scenario: str
    items: list[CatalogItem]
    next_cursor: str | None
