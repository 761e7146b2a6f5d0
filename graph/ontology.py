"""The operating-model ontology, declared once.

Every kind of entity in a bundle (bundle-format.md), its fields, its references and the Neo4j
relationship each reference becomes are declared here as data. Validation, constraints, write
Cypher, dependency edges, the graph-model documentation and the colours of the views are all
derived from this module; nothing else spells out a label or relationship type by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache


class FieldType(StrEnum):
    STRING = "string"
    BOOL = "bool"
    DATE = "date"
    ENUM = "enum"


@dataclass(frozen=True)
class Field:
    """A scalar field, stored as a node property of the same name."""

    name: str
    type: FieldType
    doc: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()
    default: bool | None = None


@dataclass(frozen=True)
class Reference:
    """A field whose value is the id (or ids) of other entities; it becomes relationships.

    ``reverse`` draws the relationship from the referenced entity to the declaring one, so that
    it reads as the operating model says it: ``(Role)-[:OWNS]->(Model)`` for a model's ``owner``.
    ``dependency`` marks the edges that "depends on" follows (rest.md); those always point from
    the dependent entity to what it depends on.
    """

    name: str
    targets: tuple[str, ...]
    rel_type: str
    many: bool
    doc: str = ""
    reverse: bool = False
    dependency: bool = False
    required: bool = False


@dataclass(frozen=True)
class Kind:
    section: str
    label: str
    singular: str
    doc: str
    fields: tuple[Field, ...] = ()
    references: tuple[Reference, ...] = ()
    name_required: bool = True
    colour: str = "#9e9e9e"
    shape: str = "dot"

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def reference(self, name: str) -> Reference | None:
        return next((r for r in self.references if r.name == name), None)


COMMON_FIELDS: tuple[str, ...] = ("id", "name", "description", "tags", "properties")
"""Fields every entity may have (bundle-format.md, "Common to all")."""

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$"
SCENARIO_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$"
ENTITY_LABEL = "Entity"
"""Every entity node carries this label besides its kind's, for lookups by id across kinds."""

_ROLE = ("roles",)

KINDS: tuple[Kind, ...] = (
    Kind(
        section="units",
        label="Unit",
        singular="unit",
        doc="A business unit.",
        references=(Reference("parent", ("units",), "PART_OF", many=False, doc="business unit this one belongs to"),),
        colour="#8d6e63",
        shape="box",
    ),
    Kind(
        section="people",
        label="Person",
        singular="person",
        doc="A person who holds roles.",
        fields=(Field("email", FieldType.STRING),),
        references=(Reference("holds", _ROLE, "HOLDS", many=True, doc="the roles this person holds"),),
        colour="#26a69a",
        shape="dot",
    ),
    Kind(
        section="roles",
        label="Role",
        singular="role",
        doc="A role in the organisation; a role nobody holds is vacant.",
        fields=(
            Field(
                "executive",
                FieldType.BOOL,
                doc="an escalation chain properly ends at an executive role",
                default=False,
            ),
        ),
        references=(
            Reference("unit", ("units",), "IN_UNIT", many=False),
            Reference("reports_to", _ROLE, "REPORTS_TO", many=False, doc="line of the org chart"),
            Reference("escalates_to", _ROLE, "ESCALATES_TO", many=False, doc="where exceptions and incidents go next"),
        ),
        colour="#42a5f5",
        shape="dot",
    ),
    Kind(
        section="data_domains",
        label="DataDomain",
        singular="data domain",
        doc="A domain of data with accountable owners.",
        fields=(
            Field(
                "classification",
                FieldType.ENUM,
                choices=("public", "internal", "confidential", "restricted"),
            ),
        ),
        references=(
            Reference(
                "owners", _ROLE, "OWNS", many=True, reverse=True, doc="accountable owners; exactly one is expected"
            ),
        ),
        colour="#ffa726",
        shape="database",
    ),
    Kind(
        section="vendors",
        label="Vendor",
        singular="vendor",
        doc="An external supplier of models or services.",
        fields=(
            Field("contract_end", FieldType.DATE),
            Field(
                "exit_plan",
                FieldType.BOOL,
                doc="a tested way to replace the vendor exists",
                default=False,
            ),
        ),
        references=(
            Reference("owner", _ROLE, "OWNS", many=False, reverse=True, doc="internal owner of the relationship"),
        ),
        colour="#ab47bc",
        shape="triangle",
    ),
    Kind(
        section="models",
        label="Model",
        singular="model",
        doc="An AI model.",
        fields=(
            Field(
                "stage",
                FieldType.ENUM,
                required=True,
                choices=("idea", "experiment", "pilot", "production", "retired"),
            ),
            Field(
                "risk_tier",
                FieldType.ENUM,
                choices=("minimal", "limited", "high", "unacceptable"),
                doc="EU AI Act style tier",
            ),
            Field("human_oversight", FieldType.ENUM, choices=("none", "on_the_loop", "in_the_loop")),
            Field("last_reviewed", FieldType.DATE, doc="last independent model review"),
        ),
        references=(
            Reference("owner", _ROLE, "OWNS", many=False, reverse=True, doc="accountable for the model's behaviour"),
            Reference("developers", _ROLE, "DEVELOPS", many=True, reverse=True, doc="build and change it"),
            Reference(
                "change_approvers",
                _ROLE,
                "APPROVES_CHANGE",
                many=True,
                reverse=True,
                doc="decision right: approve changes",
            ),
            Reference(
                "deployment_approvers",
                _ROLE,
                "APPROVES_DEPLOYMENT",
                many=True,
                reverse=True,
                doc="decision right: approve deployment",
            ),
            Reference(
                "shutdown_authority",
                _ROLE,
                "CAN_SHUT_DOWN",
                many=True,
                reverse=True,
                doc="decision right: stop it",
            ),
            Reference("vendor", ("vendors",), "SUPPLIED_BY", many=False, dependency=True, doc="supplier, if bought"),
            Reference("consumes", ("data_domains",), "CONSUMES", many=True, dependency=True, doc="data it reads"),
        ),
        colour="#ef5350",
        shape="diamond",
    ),
    Kind(
        section="workflows",
        label="Workflow",
        singular="workflow",
        doc="A business process that AI touches.",
        fields=(
            Field(
                "stage",
                FieldType.ENUM,
                required=True,
                choices=("design", "pilot", "production", "retired"),
            ),
        ),
        references=(
            Reference("unit", ("units",), "IN_UNIT", many=False),
            Reference("owner", _ROLE, "OWNS", many=False, reverse=True, doc="accountable for the workflow's outcome"),
            Reference("uses", ("models",), "USES", many=True, dependency=True, doc="AI models the workflow depends on"),
            Reference(
                "reads",
                ("data_domains",),
                "READS",
                many=True,
                dependency=True,
                doc="data the workflow itself reads",
            ),
        ),
        colour="#66bb6a",
        shape="square",
    ),
    Kind(
        section="use_cases",
        label="UseCase",
        singular="use case",
        doc="A business use of AI, with its sponsor, funding and value measures.",
        fields=(
            Field(
                "stage",
                FieldType.ENUM,
                required=True,
                choices=("idea", "approved", "delivering", "live", "retired"),
            ),
        ),
        references=(
            Reference("sponsor", _ROLE, "SPONSORS", many=False, reverse=True, doc="business sponsor"),
            Reference("budget_owner", _ROLE, "FUNDS", many=False, reverse=True, doc="decision right: funding"),
            Reference(
                "approved_by",
                _ROLE,
                "APPROVES_USE_CASE",
                many=True,
                reverse=True,
                doc="decision right: approve the use case",
            ),
            Reference("models", ("models",), "USES", many=True, dependency=True),
            Reference("workflows", ("workflows",), "DELIVERED_BY", many=True, dependency=True),
            Reference("kpis", ("kpis",), "MEASURED_BY", many=True, dependency=True, doc="how its value is measured"),
        ),
        colour="#ffee58",
        shape="star",
    ),
    Kind(
        section="kpis",
        label="Kpi",
        singular="KPI",
        doc="A measure of value.",
        fields=(Field("target", FieldType.STRING, doc="e.g. `cycle time < 2 days`"),),
        references=(Reference("owner", _ROLE, "OWNS", many=False, reverse=True),),
        colour="#d4e157",
        shape="hexagon",
    ),
    Kind(
        section="controls",
        label="Control",
        singular="control",
        doc="A control that watches models.",
        fields=(
            Field(
                "kind",
                FieldType.ENUM,
                required=True,
                choices=(
                    "monitoring",
                    "audit",
                    "human_review",
                    "incident_response",
                    "bias_testing",
                    "model_review",
                    "access_review",
                ),
            ),
        ),
        references=(
            Reference("applies_to", ("models",), "APPLIES_TO", many=True),
            Reference("operated_by", _ROLE, "OPERATES", many=False, reverse=True),
        ),
        colour="#78909c",
        shape="ellipse",
    ),
    Kind(
        section="access",
        label="AccessRequest",
        singular="access row",
        doc="A data-access request or grant: a consumer's access to a data domain.",
        fields=(
            Field(
                "status",
                FieldType.ENUM,
                required=True,
                choices=("granted", "pending", "denied", "revoked"),
            ),
        ),
        references=(
            Reference("data_domain", ("data_domains",), "FOR_DATA", many=False, required=True),
            Reference("consumer", ("models", "workflows"), "REQUESTED_BY", many=False, required=True),
            Reference(
                "approver",
                _ROLE,
                "DECIDES_ACCESS",
                many=False,
                reverse=True,
                doc="who decides (default: the domain's owner)",
            ),
        ),
        name_required=False,
        colour="#bdbdbd",
        shape="text",
    ),
)

SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low")


@cache
def kinds_by_section() -> dict[str, Kind]:
    return {k.section: k for k in KINDS}


@cache
def kinds_by_label() -> dict[str, Kind]:
    return {k.label: k for k in KINDS}


def kind(section: str) -> Kind:
    return kinds_by_section()[section]


@dataclass(frozen=True)
class EdgeType:
    """One relationship as it is drawn in Neo4j: (start label)-[rel_type]->(end label)."""

    start: str
    rel_type: str
    end: str
    section: str
    field: str
    dependency: bool


@cache
def edge_types() -> tuple[EdgeType, ...]:
    """Every (start, type, end) triple the ontology can produce, in declaration order."""
    out: list[EdgeType] = []
    for k in KINDS:
        for ref in k.references:
            for target in ref.targets:
                other = kinds_by_section()[target].label
                start, end = (other, k.label) if ref.reverse else (k.label, other)
                out.append(EdgeType(start, ref.rel_type, end, k.section, ref.name, ref.dependency))
    return tuple(out)


@cache
def dependency_rel_types() -> tuple[str, ...]:
    """Relationship types that mean "depends on", from dependent to dependency."""
    return tuple(sorted({e.rel_type for e in edge_types() if e.dependency}))


@cache
def rel_types() -> tuple[str, ...]:
    return tuple(sorted({e.rel_type for e in edge_types()}))
