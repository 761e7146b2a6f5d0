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
    INT = "int"


@dataclass(frozen=True)
class Field:
    """A scalar field (or, with ``many``, a list of scalars), stored as a node property of the
    same name. ``unique``: no two entities of the section may share a value (any of the values
    of a list field)."""

    name: str
    type: FieldType
    doc: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()
    default: bool | None = None
    many: bool = False
    unique: bool = False


@dataclass(frozen=True)
class Reference:
    """A field whose value is the id (or ids) of other entities; it becomes relationships.

    ``reverse`` draws the relationship from the referenced entity to the declaring one, so that
    it reads as the operating model says it: ``(Role)-[:OWNS]->(Model)`` for a model's ``owner``.
    ``dependency`` marks the edges that "depends on" follows (rest.md); those always point from
    the dependent entity to what it depends on. ``one_or_many`` (with ``many``): a single id is
    also accepted where a list is expected (format 1.1's ``models.vendor``).
    """

    name: str
    targets: tuple[str, ...]
    rel_type: str
    many: bool
    doc: str = ""
    reverse: bool = False
    dependency: bool = False
    required: bool = False
    one_or_many: bool = False


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
    singleton: bool = False
    """A single mapping, not a list of entities (the bundle's ``meta``): it has no ``id``, no
    ``name`` and none of the common fields, and becomes one node with the id ``SINGLETON_ID``."""

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

SINGLETON_ID = "~meta"
"""The id of the ``meta`` node: outside ID_PATTERN, so it never collides with an entity's id."""

_ROLE = ("roles",)
CONTROL_KINDS: tuple[str, ...] = (
    "monitoring",
    "audit",
    "human_review",
    "incident_response",
    "bias_testing",
    "model_review",
    "access_review",
)
EVIDENCE_KINDS: tuple[str, ...] = (
    "technical_documentation",
    "model_card",
    "risk_assessment",
    "impact_assessment",
    "dpia",
    "fria",
    "conformity_assessment",
    "test_report",
    "monitoring_plan",
    "training_record",
    "instructions_for_use",
    "other",
)
_ENTITY_SECTIONS: tuple[str, ...] = (
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
)
"""Every section whose items are entities (all but ``meta``): what ``initiatives.delivers`` may name."""

KINDS: tuple[Kind, ...] = (
    Kind(
        section="units",
        label="Unit",
        singular="unit",
        doc="A business unit.",
        references=(
            Reference("parent", ("units",), "PART_OF", many=False, doc="business unit this one belongs to"),
            Reference("head", _ROLE, "HEADS", many=False, reverse=True, doc="the role that heads the unit"),
        ),
        colour="#8d6e63",
        shape="box",
    ),
    Kind(
        section="people",
        label="Person",
        singular="person",
        doc="A person who holds roles.",
        fields=(
            Field("email", FieldType.STRING, doc="work e-mail address"),
            Field(
                "aliases",
                FieldType.STRING,
                many=True,
                unique=True,
                doc="the person's user names in other systems (SSO, git, ticketing), used to resolve actors "
                "in event logs; unique across people",
            ),
        ),
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
            Reference("unit", ("units",), "IN_UNIT", many=False, doc="business unit the role belongs to"),
            Reference("reports_to", _ROLE, "REPORTS_TO", many=False, doc="line of the org chart"),
            Reference("escalates_to", _ROLE, "ESCALATES_TO", many=False, doc="where exceptions and incidents go next"),
            Reference(
                "deputy",
                _ROLE,
                "DEPUTIZES_FOR",
                many=False,
                reverse=True,
                doc="acts for this role when its holders are absent",
            ),
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
                doc="how sensitive the data is",
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
            Field("contract_end", FieldType.DATE, doc="the day the contract ends"),
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
                doc="where the model is in its life",
            ),
            Field(
                "risk_tier",
                FieldType.ENUM,
                choices=("minimal", "limited", "high", "unacceptable"),
                doc="EU AI Act style tier",
            ),
            Field(
                "human_oversight",
                FieldType.ENUM,
                choices=("none", "on_the_loop", "in_the_loop"),
                doc="how people oversee its decisions",
            ),
            Field("last_reviewed", FieldType.DATE, doc="last independent model review"),
            Field(
                "operator_role",
                FieldType.ENUM,
                choices=("provider", "deployer", "importer", "distributor"),
                doc="the organisation's role for this system in the EU AI Act sense",
            ),
            Field("first_use", FieldType.DATE, doc="first put into service"),
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
            Reference(
                "vendor",
                ("vendors",),
                "SUPPLIED_BY",
                many=True,
                one_or_many=True,
                dependency=True,
                doc="supplier(s), if bought: one vendor or a list",
            ),
            Reference("consumes", ("data_domains",), "CONSUMES", many=True, dependency=True, doc="data it reads"),
            Reference("unit", ("units",), "IN_UNIT", many=False, doc="business unit the model serves"),
            Reference(
                "depends_on",
                ("models", "systems"),
                "DEPENDS_ON",
                many=True,
                dependency=True,
                doc="other models and applications the model needs at run time",
            ),
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
                doc="where the workflow is in its life",
            ),
        ),
        references=(
            Reference("unit", ("units",), "IN_UNIT", many=False, doc="business unit that runs the workflow"),
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
            Reference(
                "systems",
                ("systems",),
                "RUNS_ON",
                many=True,
                dependency=True,
                doc="applications the workflow runs on",
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
                doc="where the use case is in its life",
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
            Reference("models", ("models",), "USES", many=True, dependency=True, doc="AI models it uses"),
            Reference(
                "workflows", ("workflows",), "DELIVERED_BY", many=True, dependency=True, doc="workflows that deliver it"
            ),
            Reference("kpis", ("kpis",), "MEASURED_BY", many=True, dependency=True, doc="how its value is measured"),
            Reference("unit", ("units",), "IN_UNIT", many=False, doc="business unit that owns the use case"),
        ),
        colour="#ffee58",
        shape="star",
    ),
    Kind(
        section="kpis",
        label="Kpi",
        singular="KPI",
        doc="A measure of value.",
        fields=(
            Field("target", FieldType.STRING, doc="e.g. `cycle time < 2 days`"),
            Field("status", FieldType.ENUM, choices=("on_track", "at_risk", "off_track"), doc="last measured state"),
            Field("measured", FieldType.DATE, doc="when `status` was last measured"),
        ),
        references=(Reference("owner", _ROLE, "OWNS", many=False, reverse=True, doc="accountable for the measure"),),
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
                choices=CONTROL_KINDS,
                doc="what sort of control it is",
            ),
        ),
        references=(
            Reference("applies_to", ("models",), "APPLIES_TO", many=True, doc="models the control watches"),
            Reference(
                "operated_by",
                ("roles", "vendors"),
                "OPERATES",
                many=False,
                reverse=True,
                doc="a role, or an external party (auditor, vendor)",
            ),
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
                doc="where the request stands",
            ),
        ),
        references=(
            Reference(
                "data_domain", ("data_domains",), "FOR_DATA", many=False, required=True, doc="the data asked for"
            ),
            Reference(
                "consumer",
                ("models", "workflows"),
                "REQUESTED_BY",
                many=False,
                required=True,
                doc="the model or workflow that needs it",
            ),
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
    Kind(
        section="systems",
        label="System",
        singular="system",
        doc="An application or IT component that is not an AI model.",
        fields=(
            Field(
                "stage",
                FieldType.ENUM,
                required=True,
                choices=("plan", "build", "production", "retired"),
                doc="applications and IT components that are not AI models",
            ),
        ),
        references=(
            Reference("unit", ("units",), "IN_UNIT", many=False, doc="business unit the application serves"),
            Reference("owner", _ROLE, "OWNS", many=False, reverse=True, doc="accountable for the application"),
            Reference(
                "depends_on",
                ("systems", "models"),
                "DEPENDS_ON",
                many=True,
                dependency=True,
                doc="systems and models it needs at run time",
            ),
            Reference("reads", ("data_domains",), "READS", many=True, dependency=True, doc="data it reads"),
            Reference(
                "vendor",
                ("vendors",),
                "SUPPLIED_BY",
                many=True,
                one_or_many=True,
                dependency=True,
                doc="its suppliers",
            ),
        ),
        colour="#5c6bc0",
        shape="box",
    ),
    Kind(
        section="delegations",
        label="Delegation",
        singular="delegation",
        doc="A decision right passed on by the role that holds it, for a time.",
        fields=(
            Field(
                "right",
                FieldType.ENUM,
                required=True,
                choices=("change_approval", "deployment_approval", "shutdown", "access_approval"),
                doc="the decision right passed on",
            ),
            Field("valid_from", FieldType.DATE, doc="in force from this day; missing means unbounded"),
            Field("valid_to", FieldType.DATE, doc="in force up to and including this day; missing means unbounded"),
        ),
        references=(
            Reference(
                "from",
                _ROLE,
                "DELEGATES",
                many=False,
                reverse=True,
                required=True,
                doc="the role that holds the right",
            ),
            Reference("to", ("roles", "people"), "DELEGATED_TO", many=False, required=True, doc="who may exercise it"),
            Reference(
                "models",
                ("models",),
                "COVERS",
                many=True,
                doc="scope; empty means every model on which `from` holds the right "
                "(for `access_approval`: every access row `from` approves)",
            ),
        ),
        name_required=False,
        colour="#29b6f6",
        shape="triangleDown",
    ),
    Kind(
        section="policies",
        label="Policy",
        singular="policy",
        doc="What an active model of one risk tier must have.",
        fields=(
            Field(
                "risk_tier",
                FieldType.ENUM,
                required=True,
                unique=True,
                choices=("minimal", "limited", "high"),
                doc="at most one policy per tier",
            ),
            Field(
                "require_rights",
                FieldType.ENUM,
                many=True,
                choices=("owner", "change_approvers", "deployment_approvers", "shutdown_authority"),
                doc="decision rights the model must have",
            ),
            Field(
                "require_controls",
                FieldType.ENUM,
                many=True,
                choices=CONTROL_KINDS,
                doc="controls that must apply to the model (production models only)",
            ),
            Field(
                "human_oversight",
                FieldType.ENUM,
                choices=("on_the_loop", "in_the_loop"),
                doc="the least oversight allowed (`in_the_loop` is more than `on_the_loop`)",
            ),
            Field(
                "review_max_age_days",
                FieldType.INT,
                doc="production models: `last_reviewed` at most this old",
            ),
            Field(
                "approval_max_days",
                FieldType.INT,
                doc="governance speed: the longest a change may wait for approval (event logs)",
            ),
            Field(
                "require_evidence",
                FieldType.ENUM,
                many=True,
                choices=EVIDENCE_KINDS,
                doc="evidence in force that must exist about the model (production models only)",
            ),
        ),
        name_required=False,
        colour="#7e57c2",
        shape="square",
    ),
    Kind(
        section="evidence",
        label="Evidence",
        singular="evidence",
        doc="A document that shows something about models, use cases, controls, people or vendors.",
        fields=(
            Field("kind", FieldType.ENUM, required=True, choices=EVIDENCE_KINDS, doc="what sort of document it is"),
            Field("issued", FieldType.DATE, required=True, doc="in force from this day"),
            Field(
                "expires",
                FieldType.DATE,
                doc="in force up to and including the day before; missing means no expiry",
            ),
            Field("uri", FieldType.STRING, doc="where the document lives"),
        ),
        references=(
            Reference(
                "about",
                ("models", "use_cases", "controls", "people", "vendors"),
                "ABOUT",
                many=True,
                required=True,
                doc="what the evidence is about",
            ),
            Reference("owner", _ROLE, "OWNS", many=False, reverse=True, doc="keeps the document current"),
        ),
        colour="#a1887f",
        shape="box",
    ),
    Kind(
        section="incidents",
        label="Incident",
        singular="incident",
        doc="Something that went wrong with AI systems.",
        fields=(
            Field(
                "severity",
                FieldType.ENUM,
                required=True,
                choices=("low", "medium", "high", "critical"),
                doc="how bad it was",
            ),
            Field(
                "serious",
                FieldType.BOOL,
                default=False,
                doc="a serious incident in the EU AI Act sense",
            ),
            Field(
                "category",
                FieldType.ENUM,
                choices=("death", "critical_infrastructure", "widespread", "other"),
                doc="what made it serious",
            ),
            Field("aware", FieldType.DATE, required=True, doc="the day the organisation became aware"),
            Field("reported", FieldType.DATE, doc="the day it was reported to the authority"),
            Field("closed", FieldType.DATE, doc="the day it was closed"),
        ),
        references=(
            Reference("models", ("models",), "INVOLVES", many=True, doc="the AI systems involved"),
            Reference("owner", _ROLE, "OWNS", many=False, reverse=True, doc="drives it to closure"),
        ),
        colour="#e53935",
        shape="star",
    ),
    Kind(
        section="initiatives",
        label="Initiative",
        singular="initiative",
        doc="A step of the transition plan from the current to the target state.",
        fields=(
            Field(
                "status",
                FieldType.ENUM,
                required=True,
                choices=("proposed", "approved", "in_progress", "done", "cancelled"),
                doc="where the step of the transition plan stands",
            ),
            Field("due", FieldType.DATE, doc="when it must be done"),
            Field("budget", FieldType.STRING, doc="e.g. `EUR 1.2M`"),
        ),
        references=(
            Reference(
                "accountable",
                _ROLE,
                "ACCOUNTABLE_FOR",
                many=False,
                reverse=True,
                doc="the executive accountable for delivering it",
            ),
            Reference(
                "delivers",
                _ENTITY_SECTIONS,
                "DELIVERS",
                many=True,
                doc="what it brings about, in the scenario it is loaded into (usually `target`)",
            ),
        ),
        colour="#00897b",
        shape="hexagon",
    ),
    Kind(
        section="assessments",
        label="Assessment",
        singular="assessment",
        doc="An answer to a self-assessment question of the maturity catalog.",
        fields=(
            Field("question", FieldType.STRING, required=True, doc="a self-assessment question id"),
            Field("answer", FieldType.ENUM, required=True, choices=("yes", "partly", "no"), doc="the answer"),
            Field("date", FieldType.DATE, required=True, doc="when it was answered"),
        ),
        references=(
            Reference(
                "unit",
                ("units",),
                "IN_UNIT",
                many=False,
                doc="the unit answering; missing means the whole organisation",
            ),
            Reference("by", ("people",), "ASSESSED_BY", many=False, doc="the person who answered"),
        ),
        name_required=False,
        colour="#c0ca33",
        shape="text",
    ),
    Kind(
        section="meta",
        label="Meta",
        singular="operating model meta",
        doc="About the operating model itself: one mapping, not a list.",
        fields=(
            Field("reviewed", FieldType.DATE, doc="the last time the TOM was reviewed as a whole"),
            Field(
                "frameworks",
                FieldType.STRING,
                many=True,
                doc="framework ids whose obligations are in force for this operating model",
            ),
        ),
        references=(
            Reference(
                "owner",
                _ROLE,
                "OWNS",
                many=False,
                reverse=True,
                doc="the executive who owns the TOM and its transition",
            ),
        ),
        colour="#37474f",
        shape="box",
        singleton=True,
    ),
)

DECISION_RIGHTS: dict[str, tuple[str, str]] = {
    "change_approval": ("models", "change_approvers"),
    "deployment_approval": ("models", "deployment_approvers"),
    "shutdown": ("models", "shutdown_authority"),
    "access_approval": ("access", "approver"),
}
"""Each right a delegation may pass on, and the (section, reference) that gives it to a role."""

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
