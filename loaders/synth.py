"""Synthetic enterprise bundles with planted gaps, for tests and benchmarks (`tomgraph synth`).

`generate(size, seed)` builds a clean operating model shaped like a large company (group →
divisions → departments, roles with reporting and escalation lines up the tree, people holding
roles, models, shared data domains, a few big vendors, workflows, use cases, KPIs, controls and
access rows), then plants a known number of findings of every check in gap-checks.md. The
background produces no finding at all; `expected.json` is exactly what `tomgraph check
--as-of AS_OF --format json` prints for the planted gaps: the same keys (check, severity,
subjects, accountable, message, remediation), values and order (severity rank, check, subjects),
written the way the CLI writes it (indent 2, UTF-8).
Every generated bundle is re-derived against the spec by `derive_findings` before it is returned,
so a plant that would set off an unintended finding fails generation instead of shipping a wrong
`expected.json`.

Nothing here runs the checks. Each finding's message is the check file's own template
(`queries.messages`, read from the built-in catalog, as is its remediation) filled in by
`_MessageValues` with what the bundle says about the planted subjects: the text is written once,
in the check file, while the values come from this independent reading of the bundle.

Everything is relative to the fixed as-of date `AS_OF` (2026-06-30), stored in expected.json.

Subjects follow gap-checks.md (primary first). Where the spec leaves the order open:
`self-approved-model` is the model, then every role in a conflict sorted by id (a role that is
both developer and approver appears once; through a person, both the developer and the approver
role); `data-ownership-deadlock` is the group's roles sorted by id.

`accountable`, per check (the role expected to act; null where nobody is):

| check                             | accountable                                            |
| --------------------------------- | ------------------------------------------------------ |
| model-without-owner               | null                                                   |
| model-without-change-approver     | the model's owner                                      |
| no-shutdown-authority             | the model's owner                                      |
| self-approved-model               | the model's owner                                      |
| vacant-decision-role              | the vacant role's `reports_to` (null without one)      |
| broken-escalation-chain           | the role itself                                        |
| missing-risk-tier                 | the model's owner                                      |
| prohibited-model-active           | the model's owner                                      |
| high-risk-without-human-oversight | the model's owner                                      |
| overdue-model-review              | the model's owner                                      |
| unmonitored-production-model      | the model's owner                                      |
| control-without-operator          | null                                                   |
| experiment-in-production          | the workflow's owner                                   |
| workflow-without-owner            | null                                                   |
| orphan-data-domain                | null                                                   |
| contested-data-ownership          | null                                                   |
| blocked-data-dependency           | the domain's owner when it has exactly one, else null  |
| data-ownership-deadlock           | null                                                   |
| vendor-without-owner              | null                                                   |
| expired-vendor-contract           | the vendor's owner                                     |
| vendor-concentration              | the vendor's owner                                     |
| use-case-without-kpi              | the use case's sponsor                                 |
| use-case-without-sponsor          | null                                                   |
| model-without-business-case       | the model's owner                                      |
| kpi-without-owner                 | null                                                   |
| late-incident-report              | the incident's owner                                   |
| incident-without-owner            | null                                                   |
| system-without-owner              | null                                                   |
| initiative-without-accountable    | the TOM's owner (`meta.owner`)                         |
| overdue-initiative                | the TOM's owner (`meta.owner`)                         |
| tom-without-owner                 | null (subject: the non-executive owner role)           |
| tom-review-overdue                | null (subject: the TOM's owner role)                   |
| policy-missing-right              | the model's owner                                      |
| policy-missing-control            | the model's owner                                      |
| policy-weak-oversight             | the model's owner                                      |
| policy-review-overdue             | the model's owner                                      |
| policy-missing-evidence           | the model's owner                                      |
| delegated-self-approval           | the model's owner (subjects: model, person)            |
| single-point-of-shutdown          | null (subject: the person)                             |

The bundle is written as format 1.1 with a `meta` mapping, one policy per risk tier
(`POLICIES`), evidence and delegations. A policy restates some catalog 1.0 rules, so a 1.0
plant that breaks one of them is also a policy finding (`ECHOES`), listed in expected.json
like any other. The three `policy-missing-*` findings carry `details: {missing: [...]}`, in
the policy's order, as the check run prints them.

Boundaries the background deliberately sits on (near-misses, never findings under the spec):
one production high-risk model reviewed exactly `review_max_age_days` (365) before the as-of
date ("older than" is strict); one vendor whose contract ends on the as-of date ("before" is
strict); an expired vendor that supplies only idea and retired models; an executive role without
`escalates_to` that owns a production model; workflows owned by a domain's owner that read it
without an access row; revoked rows next to a granted one; pending and denied rows for inactive
consumers; vacant roles without decision rights; unacceptable-tier models at idea or retired;
technical documentation issued on the as-of date and one expiring the day after it, an expired
risk assessment next to its current one; a limited-risk model reviewed exactly its policy's
730 days before; change approval delegated to a developer that ended the day before, starts
the day after, or covers another model; shutdown holidays delegated in force, over or to come;
and, where the size leaves models, a person alone on two high-risk models only, and one alone
on three whose stand-in's delegation ends on the as-of date ("up to and including").
"""

from __future__ import annotations

import copy
import json
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from graph.ontology import DECISION_RIGHTS, KINDS
from queries.catalog import SEVERITY_RANK, Catalog, load_catalog
from queries.messages import join_names

Entity = dict[str, Any]

AS_OF = date(2026, 6, 30)
REVIEW_MAX_AGE_DAYS = 365
VENDOR_SHARE_MAX = 0.5
VENDOR_MIN_MODELS = 3

SECTIONS: tuple[str, ...] = tuple(k.section for k in KINDS if not k.singleton)
DEFAULT_SEVERITY: dict[str, str] = {
    "model-without-owner": "high",
    "model-without-change-approver": "high",
    "no-shutdown-authority": "high",
    "self-approved-model": "high",
    "vacant-decision-role": "high",
    "broken-escalation-chain": "high",
    "missing-risk-tier": "high",
    "prohibited-model-active": "critical",
    "high-risk-without-human-oversight": "critical",
    "overdue-model-review": "medium",
    "unmonitored-production-model": "high",
    "control-without-operator": "medium",
    "experiment-in-production": "high",
    "workflow-without-owner": "medium",
    "orphan-data-domain": "high",
    "contested-data-ownership": "medium",
    "blocked-data-dependency": "high",
    "data-ownership-deadlock": "critical",
    "vendor-without-owner": "medium",
    "expired-vendor-contract": "high",
    "vendor-concentration": "medium",
    "use-case-without-kpi": "medium",
    "use-case-without-sponsor": "medium",
    "model-without-business-case": "medium",
    "kpi-without-owner": "low",
    # catalog 1.1 additions
    "late-incident-report": "critical",
    "incident-without-owner": "medium",
    "system-without-owner": "medium",
    "initiative-without-accountable": "medium",
    "overdue-initiative": "high",
    "tom-without-owner": "high",
    "tom-review-overdue": "medium",
    "policy-missing-right": "high",
    "policy-missing-control": "high",
    "policy-weak-oversight": "high",
    "policy-review-overdue": "medium",
    "policy-missing-evidence": "high",
    "delegated-self-approval": "high",
    "single-point-of-shutdown": "medium",
}
CHECK_IDS: tuple[str, ...] = tuple(DEFAULT_SEVERITY)
SPOF_MIN_MODELS = 3
POLICIES: dict[str, Entity] = {
    "high": {
        "require_rights": ["owner", "change_approvers", "deployment_approvers", "shutdown_authority"],
        "require_controls": ["monitoring", "human_review", "model_review"],
        "human_oversight": "in_the_loop",
        "review_max_age_days": 365,
        "approval_max_days": 10,
        "require_evidence": ["technical_documentation", "risk_assessment"],
    },
    "limited": {
        "require_rights": ["owner", "change_approvers"],
        "require_controls": ["monitoring"],
        "human_oversight": "on_the_loop",
        "review_max_age_days": 730,
        "approval_max_days": 20,
    },
    "minimal": {"require_rights": ["owner"], "approval_max_days": 30},
}
"""The bundle's policy per risk tier (what the background satisfies and the plants break)."""
OVERSIGHT_LEVEL: dict[str, int] = {"on_the_loop": 1, "in_the_loop": 2}
ECHOES: dict[str, tuple[str, str | None]] = {
    "model-without-owner": ("policy-missing-right", "owner"),
    "model-without-change-approver": ("policy-missing-right", "change_approvers"),
    "no-shutdown-authority": ("policy-missing-right", "shutdown_authority"),
    "unmonitored-production-model": ("policy-missing-control", "monitoring"),
    "high-risk-without-human-oversight": ("policy-weak-oversight", None),
    "overdue-model-review": ("policy-review-overdue", None),
}
"""Catalog 1.0 plants that break a rule of the model's policy too, and the policy check that
says so (with what the policy must require for it to)."""
DETAILS_CHECKS = frozenset({"policy-missing-right", "policy-missing-control", "policy-missing-evidence"})
"""Checks whose findings carry `details: {missing: [...]}`."""
TOM_REVIEW_MAX_AGE_DAYS = 365
REPORT_DAYS: dict[str, int] = {"death": 10, "critical_infrastructure": 2, "widespread": 2}
"""Days from `aware` to the reporting deadline of a serious incident, by category (15 otherwise)."""
CLOSED_INITIATIVE = frozenset({"done", "cancelled"})
RAISED_FOR_HIGH_RISK = frozenset({"model-without-change-approver", "self-approved-model", "delegated-self-approval"})

ACTIVE_MODEL = frozenset({"pilot", "production"})
ACTIVE_WORKFLOW = frozenset({"pilot", "production"})
LIVE_USE_CASE = frozenset({"approved", "delivering", "live"})
TIERED_MODEL = frozenset({"experiment", "pilot", "production"})
NOT_READY = frozenset({"idea", "experiment", "retired"})


@dataclass(frozen=True)
class Scale:
    divisions: int
    departments: tuple[int, int]
    shared_domains: int
    big_vendors: int
    small_vendors: int
    plants: int
    """Planted findings per check (vendor-concentration: one; at most two can exist at 50%)."""


SIZES: dict[str, Scale] = {
    "small": Scale(divisions=3, departments=(3, 4), shared_domains=4, big_vendors=3, small_vendors=8, plants=2),
    "medium": Scale(divisions=12, departments=(20, 22), shared_domains=12, big_vendors=5, small_vendors=40, plants=5),
    "large": Scale(divisions=40, departments=(62, 72), shared_domains=30, big_vendors=8, small_vendors=200, plants=10),
}


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split(","))


LINES = _words(
    "Retail Banking, Commercial Banking, Insurance, Wealth Management, Payments, Markets, Operations, "
    "Technology, Consumer Lending, Asset Finance"
)
REGIONS = ("", " Europe", " Americas", " Asia Pacific", " Nordics", " Iberia")
FUNCTIONS = _words(
    "Underwriting, Claims, Fraud, Customer Service, Pricing, Marketing, Collections, Onboarding, "
    "Field Operations, Credit Risk, Compliance, Finance, HR, Procurement, Product, Sales, Treasury, "
    "Legal, IT Service, Document Management"
)
PURPOSES = _words(
    "risk score, triage router, document classifier, churn predictor, next best action, "
    "anomaly detector, demand forecast, assistant, summariser, pricing optimiser, entity matcher, "
    "sentiment model, routing optimiser, extraction model, propensity model"
)
DOMAIN_TOPICS = _words(
    "transactions, cases, documents, interactions, applications, contracts, inspections, payments, events, quotes"
)
SHARED_TOPICS = _words(
    "Customer master, Product catalogue, Employee directory, Market data, Reference data, "
    "Identity and access, Complaints, Web analytics, Sanctions lists, General ledger"
)
BIG_VENDOR_NAMES = _words(
    "Nimbus AI Cloud, Veridian Models, Polaris Analytics, Quanta Foundry, Helix Language Systems, "
    "Aster Vision, Corvid Data, Lumen Decision"
)
KPI_TARGETS = _words(
    "cycle time < 2 days, first-contact resolution > 80%, loss ratio -2 pts, NPS +5, "
    "false positives -30%, cost per case -15%, straight-through rate > 60%, churn -1 pt"
)
FIRST_NAMES = _words(
    "Ana, Ben, Chloe, Dev, Elif, Femi, Greta, Hiro, Ines, Jonas, Kemi, Luca, Maya, Nils, Omar, Priya, "
    "Quinn, Rosa, Sami, Tara, Uma, Viktor, Wen, Yusuf"
)
LAST_NAMES = _words(
    "Ortiz, Berg, Nakamura, Okafor, Rossi, Schmidt, Dubois, Kowalski, Silva, Haddad, Larsen, Moreau, "
    "Novak, Patel, Reyes, Svensson, Tanaka, Weber, Yilmaz, Zhang"
)


@dataclass
class _Division:
    unit: str
    head: str
    risk_head: str
    data_officer: str
    domains: list[str] = field(default_factory=list)
    departments: list[_Department] = field(default_factory=list)


@dataclass
class _Department:
    unit: str
    division: _Division
    function: str
    head: str
    product_owners: list[str]
    ds_lead: str
    developers: list[str]
    risk_officer: str
    mlops_lead: str
    data_owner: str
    domains: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    workflows: list[str] = field(default_factory=list)
    use_cases: list[str] = field(default_factory=list)
    monitoring: str | None = None

    @property
    def business(self) -> list[str]:
        return [self.head, *self.product_owners]


def _day(days_before_as_of: int) -> str:
    return (AS_OF - timedelta(days=days_before_as_of)).isoformat()


class _Synth:
    def __init__(self, scale: Scale, seed: int) -> None:
        self.scale = scale
        self.rng = random.Random(seed)
        self.sections: dict[str, list[Entity]] = {s: [] for s in SECTIONS}
        self.by_id: dict[str, Entity] = {}
        self.dept_of: dict[str, _Department] = {}
        self.rows_of: dict[str, list[Entity]] = {}
        self.dropped: set[str] = set()
        self.touched: set[str] = set()
        self.pools: dict[str, list[Entity]] = {}
        self.data_ops_domains: set[str] = set()
        self.planted: list[tuple[str, str, list[str], str | None]] = []
        self.divisions: list[_Division] = []
        self.departments: list[_Department] = []
        self.big_vendors: list[str] = []
        self.small_vendors: list[str] = []
        self.shared_domains: list[str] = []
        self.counters: dict[str, int] = {}
        self.meta: Entity = {}
        self.planted_for_tom_owner: list[tuple[str, str]] = []
        self.evidence_of: dict[str, list[Entity]] = {}
        self.no_deputy: set[str] = set()

    # --- building blocks ---------------------------------------------------------------------

    def add(self, section: str, entity: Entity) -> Entity:
        self.sections[section].append(entity)
        self.by_id[entity["id"]] = entity
        return entity

    def next_id(self, prefix: str) -> str:
        n = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = n
        return f"{prefix}{n:06d}" if prefix in ("p-", "a-") else f"{prefix}{n}"

    def role(
        self, rid: str, name: str, unit: str, reports_to: str | None, escalates_to: str | None, executive: bool = False
    ) -> str:
        entity: Entity = {"id": rid, "name": name, "unit": unit}
        if reports_to:
            entity["reports_to"] = reports_to
        if escalates_to:
            entity["escalates_to"] = escalates_to
        if executive:
            entity["executive"] = True
        self.add("roles", entity)
        return rid

    def person(self, holds: list[str]) -> Entity:
        pid = self.next_id("p-")
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        return self.add(
            "people",
            {
                "id": pid,
                "name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}.{pid[2:]}@example.com",
                "holds": list(holds),
            },
        )

    def domain(self, did: str, name: str, owners: list[str]) -> str:
        classification = self.rng.choices(("public", "internal", "confidential", "restricted"), (1, 4, 4, 2))[0]
        self.add("data_domains", {"id": did, "name": name, "classification": classification, "owners": owners})
        return did

    def access(self, consumer: str, domain: str, status: str, approver: str | None = None) -> Entity:
        row: Entity = {"id": self.next_id("a-"), "data_domain": domain, "consumer": consumer, "status": status}
        if approver:
            row["approver"] = approver
        self.rows_of.setdefault(consumer, []).append(row)
        return self.add("access", row)

    def grant(self, consumer: str, domain: str) -> None:
        owners = self.by_id[domain]["owners"]
        self.access(consumer, domain, "granted", owners[0] if self.rng.random() < 0.85 else None)

    def control(self, cid: str, name: str, kind_: str, operator: str, models: list[str]) -> None:
        if models:
            self.add(
                "controls", {"id": cid, "name": name, "kind": kind_, "applies_to": models, "operated_by": operator}
            )

    # --- the clean background ----------------------------------------------------------------

    def build(self) -> None:
        scale = self.scale
        self.add("units", {"id": "u-g", "name": "Group", "properties": {"cost_centre": "CC0000"}})
        ceo = self.role("r-ceo", "Chief Executive Officer", "u-g", None, None, executive=True)
        cro = self.role("r-cro", "Chief Risk Officer", "u-g", ceo, ceo, executive=True)
        coo = self.role("r-coo", "Chief Operating Officer", "u-g", ceo, ceo, executive=True)
        # The CDO is executive and escalates nowhere: a chain that starts at an executive is fine.
        cdo = self.role("r-cdo", "Chief Data Officer", "u-g", ceo, None, executive=True)
        mrm = self.role("r-g-mrm", "Head of Model Risk Management", "u-g", cro, cro)
        for rid in (ceo, cro, coo, cdo, mrm):
            self.person([rid])
        vendor_managers = [
            self.role(f"r-g-vm{i}", f"Vendor Manager {i}", "u-g", coo, coo)
            for i in range(1, max(2, scale.big_vendors // 2) + 1)
        ]
        for rid in vendor_managers:
            self.person([rid])
        shared: list[str] = []
        for i in range(1, scale.shared_domains + 1):
            topic = SHARED_TOPICS[(i - 1) % len(SHARED_TOPICS)]
            owner = self.role(f"r-g-do{i}", f"{topic} Data Owner", "u-g", cdo, cdo)
            self.person([owner])
            shared.append(self.domain(f"dd-g-{i}", f"{topic} {(i - 1) // len(SHARED_TOPICS) + 1}", [owner]))
        self.shared_domains = shared
        self.vendors(vendor_managers)

        group = _Division("u-g", cdo, mrm, cdo)
        group.domains = shared
        self.divisions.append(group)
        self.department(group, 1, "AI Office")
        for d in range(1, scale.divisions + 1):
            self.division(d)
        every_model = (m for d in self.departments for m in d.models)  # the AI office's come first
        flagship = next(m for m in every_model if self.by_id[m]["stage"] == "production")
        self.by_id[flagship]["owner"] = cdo
        self.touched.add(flagship)
        self.division_controls(group)
        self.group_controls(mrm, cdo)
        self.near_misses()
        self.format_11(ceo, coo, cro)
        self.governance()

    def format_11(self, ceo: str, coo: str, cro: str) -> None:
        """Background of the format 1.1 sections, with near misses and no finding: the COO owns
        the TOM, reviewed exactly TOM_REVIEW_MAX_AGE_DAYS before the as-of date; one owned
        system per division and a planned one without owner; a serious incident reported on its
        deadline day and a closed one without owner; initiatives done past due or due on the
        as-of date."""
        self.meta = {"owner": coo, "reviewed": _day(TOM_REVIEW_MAX_AGE_DAYS)}
        for div in self.divisions:
            self.add(
                "systems",
                {
                    "id": self.next_id("s-"),
                    "name": f"Core platform {div.unit}",
                    "stage": "production",
                    "owner": div.head,
                },
            )
        self.add("systems", {"id": self.next_id("s-"), "name": "Planned data hub", "stage": "plan"})
        self.add(
            "incidents",
            {
                "id": self.next_id("inc-"),
                "name": "Outage of a scoring service",
                "severity": "critical",
                "serious": True,
                "category": "critical_infrastructure",
                "aware": _day(30),
                "reported": _day(28),
                "owner": cro,
            },
        )
        self.add(
            "incidents",
            {
                "id": self.next_id("inc-"),
                "name": "Slow answers",
                "severity": "low",
                "aware": _day(90),
                "closed": _day(0),
            },
        )
        self.add(
            "initiatives",
            {
                "id": self.next_id("ini-"),
                "name": "Model inventory",
                "status": "done",
                "accountable": ceo,
                "due": _day(60),
            },
        )
        self.add(
            "initiatives",
            {
                "id": self.next_id("ini-"),
                "name": "AI literacy",
                "status": "in_progress",
                "accountable": cro,
                "due": _day(0),
            },
        )

    def vendors(self, managers: list[str]) -> None:
        rng = self.rng
        for i in range(self.scale.big_vendors):
            vid = f"v-big{i + 1}"
            self.add(
                "vendors",
                {
                    "id": vid,
                    "name": BIG_VENDOR_NAMES[i % len(BIG_VENDOR_NAMES)],
                    "owner": managers[i % len(managers)],
                    "contract_end": _day(-rng.randint(180, 1500)),
                    "exit_plan": i % 2 == 1,
                },
            )
            self.big_vendors.append(vid)
        for i in range(self.scale.small_vendors):
            vid = f"v-{i + 1}"
            self.add(
                "vendors",
                {
                    "id": vid,
                    "name": f"{rng.choice(LAST_NAMES)} {rng.choice(('AI', 'Labs', 'ML'))}",
                    "owner": managers[i % len(managers)],
                    "contract_end": _day(-rng.randint(30, 1200)),
                    "exit_plan": rng.random() < 0.3,
                },
            )
            self.small_vendors.append(vid)

    def division(self, d: int) -> None:
        rng = self.rng
        unit = f"u-d{d:02d}"
        name = LINES[(d - 1) % len(LINES)] + REGIONS[(d - 1) // len(LINES) % len(REGIONS)]
        suffix = f" {(d - 1) // (len(LINES) * len(REGIONS)) + 1}" if d > len(LINES) * len(REGIONS) else ""
        self.add(
            "units", {"id": unit, "name": name + suffix, "parent": "u-g", "properties": {"cost_centre": f"CC{d:02d}00"}}
        )
        code = unit[2:]
        head = self.role(f"r-{code}-head", f"Head of {name}", unit, "r-ceo", "r-ceo", executive=True)
        risk = self.role(f"r-{code}-risk", f"{name} Risk Director", unit, head, head)
        data = self.role(f"r-{code}-data", f"{name} Data Officer", unit, head, head)
        vacancy = self.role(f"r-{code}-vac", f"{name} Analytics Translator (open)", unit, head, None)
        for rid in (head, risk, data):
            self.person([rid])
        div = _Division(unit, head, risk, data)
        div.domains = [
            self.domain(f"dd-{code}-{i}", f"{name} {t}", [data])
            for i, t in enumerate(rng.sample(DOMAIN_TOPICS, 2), start=1)
        ]
        self.divisions.append(div)
        for i in range(1, rng.randint(*self.scale.departments) + 1):
            self.department(div, i, FUNCTIONS[(d * 7 + i) % len(FUNCTIONS)])
        idea = next((m for dept in div.departments for m in dept.models if self.by_id[m]["stage"] == "idea"), None)
        if idea:  # a vacant role may own an idea: not a decision right
            self.by_id[idea]["owner"] = vacancy
            self.touched.add(idea)
        self.division_controls(div)

    def department(self, div: _Division, i: int, function: str) -> None:
        rng = self.rng
        unit = f"{div.unit}-{i:02d}"
        code = unit[2:]
        self.add("units", {"id": unit, "name": function, "parent": div.unit})
        head = self.role(f"r-{code}-head", f"Head of {function}", unit, div.head, div.head)
        pos = [self.role(f"r-{code}-po{j}", f"{function} Product Owner {j}", unit, head, head) for j in (1, 2)]
        ds_lead = self.role(f"r-{code}-dsl", f"{function} Data Science Lead", unit, head, head)
        engineers = [
            self.role(f"r-{code}-ds{j}", f"{function} Data Scientist {j}", unit, ds_lead, ds_lead) for j in (1, 2)
        ]
        risk = self.role(f"r-{code}-mro", f"{function} Model Risk Officer", unit, div.risk_head, div.risk_head)
        mlops = self.role(f"r-{code}-ops", f"{function} ML Operations Lead", unit, head, head)
        data = self.role(f"r-{code}-do", f"{function} Data Owner", unit, head, head)
        dept = _Department(unit, div, function, head, pos, ds_lead, [ds_lead, *engineers], risk, mlops, data)
        div.departments.append(dept)
        self.departments.append(dept)
        # Someone may hold two roles, always of one function: business with business, builders with
        # builders, so that nobody both develops and change-approves through the roles they hold.
        for group in ([head, *pos], [ds_lead, *engineers], [risk], [mlops], [data]):
            holders: list[Entity] = []
            for rid in group:
                if holders and rng.random() < 0.08:
                    rng.choice(holders)["holds"].append(rid)
                else:
                    holders.append(self.person([rid]))
                if rng.random() < 0.06:
                    self.person([rid])
        dept.domains = [
            self.domain(f"dd-{code}-{j}", f"{function} {t}", [data])
            for j, t in enumerate(rng.sample(DOMAIN_TOPICS, 2), start=1)
        ]
        readable = list(dict.fromkeys(dept.domains + div.domains + rng.sample(self.shared_domains, 2)))
        for j in range(1, rng.randint(10, 14) + 1):
            self.model(dept, f"m-{code}-{j}", readable)
        for j in range(1, rng.randint(2, 4) + 1):
            self.workflow(dept, f"wf-{code}-{j}", readable)
        if rng.random() < 0.3:  # the domain's owner reads their own data: no access row needed
            wid = f"wf-{code}-dataops"
            self.add(
                "workflows",
                {
                    "id": wid,
                    "name": f"{function} data quality",
                    "unit": unit,
                    "owner": data,
                    "stage": "production",
                    "reads": [dept.domains[0]],
                },
            )
            self.touched.add(wid)
            self.data_ops_domains.add(dept.domains[0])
        for j in range(1, rng.randint(2, 4) + 1):
            self.use_case(dept, f"uc-{code}-{j}", j == 1)
        self.cover_business_cases(dept)
        self.department_controls(dept)

    def model(self, dept: _Department, mid: str, readable: list[str]) -> None:
        rng = self.rng
        stage = rng.choices(("idea", "experiment", "pilot", "production", "retired"), (7, 15, 15, 55, 8))[0]
        if stage == "idea":
            tier = rng.choices((None, "minimal", "limited", "high", "unacceptable"), (4, 2, 2, 2, 1))[0]
        elif stage == "retired":
            tier = rng.choices((None, "minimal", "limited", "high", "unacceptable"), (1, 3, 3, 3, 1))[0]
        else:
            tier = rng.choices(("minimal", "limited", "high"), (30, 40, 30))[0]
        m: Entity = {"id": mid, "name": f"{dept.function} {rng.choice(PURPOSES)}", "stage": stage}
        if tier:
            m["risk_tier"] = tier
        m["owner"] = rng.choice(dept.business)
        m["developers"] = rng.sample(dept.developers, rng.choice((1, 2, 2, 3, 3)))
        if stage != "idea":
            m["change_approvers"] = [dept.risk_officer] + ([dept.division.risk_head] if tier == "high" else [])
            if tier == "high" and stage == "production" and "r-g-mrm" not in m["change_approvers"]:
                m["change_approvers"].append("r-g-mrm")  # the group model risk committee signs off too
            second = stage == "production" or rng.random() < 0.5
            m["deployment_approvers"] = [dept.mlops_lead, dept.head] if second else [dept.mlops_lead]
        if stage == "production" or (stage == "pilot" and rng.random() < 0.5):
            both = rng.random() < 0.67
            m["shutdown_authority"] = [dept.head, dept.mlops_lead] if both else [dept.mlops_lead]
        if rng.random() < 0.45:
            if rng.random() < 0.7:
                m["vendor"] = rng.choices(self.big_vendors, range(len(self.big_vendors) + 1, 1, -1))[0]
            else:
                m["vendor"] = rng.choice(self.small_vendors)
        m["consumes"] = rng.sample(readable, rng.choice((1, 2, 2, 3, 3)))
        if tier == "high" and stage in ACTIVE_MODEL:
            m["human_oversight"] = rng.choice(("in_the_loop", "on_the_loop"))
        elif rng.random() < 0.7:
            m["human_oversight"] = rng.choice(("none", "on_the_loop", "in_the_loop"))
        if stage == "production" and tier == "high":
            m["last_reviewed"] = _day(rng.randint(5, 330))
        elif rng.random() < 0.6:
            m["last_reviewed"] = _day(rng.randint(0, 900))
        if rng.random() < 0.15:
            m["tags"] = ["genai"]
        self.add("models", m)
        self.dept_of[mid] = dept
        dept.models.append(mid)
        self.wire_access(mid, m["consumes"], stage in ACTIVE_MODEL)

    def wire_access(self, consumer: str, domains: list[str], active: bool) -> None:
        rng = self.rng
        for d in domains:
            if active:
                if rng.random() < 0.04:  # an old revoked grant next to the current one
                    self.access(consumer, d, "revoked")
                self.grant(consumer, d)
            else:
                status = rng.choices(("granted", "pending", "denied", None), (50, 20, 5, 25))[0]
                if status == "granted":
                    self.grant(consumer, d)
                elif status:
                    self.access(consumer, d, status)

    def workflow(self, dept: _Department, wid: str, readable: list[str]) -> None:
        rng = self.rng
        stage = rng.choices(("design", "pilot", "production", "retired"), (15, 20, 55, 10))[0]
        allowed = {
            "production": ACTIVE_MODEL,
            "pilot": ACTIVE_MODEL | {"experiment"},
            "design": frozenset({"idea", "experiment", "pilot", "production"}),
        }.get(stage)
        usable = [m for m in dept.models if allowed is None or self.by_id[m]["stage"] in allowed]
        activity = rng.choice(("intake", "review", "resolution", "outreach", "reconciliation"))
        w: Entity = {
            "id": wid,
            "name": f"{dept.function} {activity}",
            "unit": dept.unit,
            "owner": rng.choice(dept.business),
            "stage": stage,
        }
        if usable:
            w["uses"] = rng.sample(usable, min(len(usable), rng.randint(1, 5)))
        w["reads"] = rng.sample(readable, rng.choice((1, 1, 2)))
        self.add("workflows", w)
        self.dept_of[wid] = dept
        dept.workflows.append(wid)
        self.wire_access(wid, w["reads"], stage in ACTIVE_WORKFLOW)

    def use_case(self, dept: _Department, uid: str, first: bool) -> None:
        rng = self.rng
        stage = (
            "live"
            if first
            else rng.choices(("idea", "approved", "delivering", "live", "retired"), (20, 15, 20, 35, 10))[0]
        )
        u: Entity = {"id": uid, "name": f"{dept.function} {rng.choice(PURPOSES)} programme", "stage": stage}
        live = stage in LIVE_USE_CASE
        if live or rng.random() < 0.5:
            u["sponsor"] = dept.head
        u["budget_owner"] = rng.choice((dept.head, dept.division.head))
        if live:
            u["approved_by"] = [dept.division.head, dept.risk_officer]
        candidates = [m for m in dept.models if self.by_id[m]["stage"] != "retired"]
        if candidates:
            u["models"] = rng.sample(candidates, min(len(candidates), rng.randint(2, 5)))
        if dept.workflows and rng.random() < 0.7:
            u["workflows"] = rng.sample(dept.workflows, min(len(dept.workflows), rng.randint(1, 2)))
        kpis = []
        for _ in range(rng.randint(1, 2) if live else rng.randint(0, 1)):
            kid = self.next_id(f"kpi-{uid[3:]}-")
            kpis.append(
                self.add(
                    "kpis",
                    {
                        "id": kid,
                        "name": f"{dept.function} KPI {kid[-1]}",
                        "owner": rng.choice(dept.business),
                        "target": rng.choice(KPI_TARGETS),
                    },
                )["id"]
            )
        if kpis:
            u["kpis"] = kpis
        self.add("use_cases", u)
        self.dept_of[uid] = dept
        dept.use_cases.append(uid)

    def cover_business_cases(self, dept: _Department) -> None:
        used = {
            m
            for w in dept.workflows
            if self.by_id[w]["stage"] in ACTIVE_WORKFLOW
            for m in self.by_id[w].get("uses", ())
        }
        live = [self.by_id[u] for u in dept.use_cases if self.by_id[u]["stage"] in LIVE_USE_CASE]
        for u in live:
            used.update(u.get("models", ()))
        for m in dept.models:
            if self.by_id[m]["stage"] == "production" and m not in used:
                self.rng.choice(live).setdefault("models", []).append(m)

    def department_controls(self, dept: _Department) -> None:
        code = dept.unit[2:]
        watched = [
            m
            for m in dept.models
            if self.by_id[m]["stage"] in ACTIVE_MODEL
            or (self.by_id[m]["stage"] == "experiment" and self.rng.random() < 0.3)
        ]
        self.control(f"c-{code}-mon", f"{dept.function} model monitoring", "monitoring", dept.mlops_lead, watched)
        if watched:
            dept.monitoring = f"c-{code}-mon"
        high = [
            m
            for m in dept.models
            if self.by_id[m].get("risk_tier") == "high" and self.by_id[m]["stage"] in ACTIVE_MODEL
        ]
        self.control(f"c-{code}-hr", f"{dept.function} human review", "human_review", dept.risk_officer, high)
        self.control(
            f"c-{code}-acc",
            f"{dept.function} data access review",
            "access_review",
            dept.data_owner,
            [m for m in dept.models if self.by_id[m]["stage"] in ACTIVE_MODEL],
        )
        self.control(
            f"c-{code}-audit",
            f"{dept.function} model audit trail",
            "audit",
            dept.risk_officer,
            [m for m in dept.models if self.by_id[m]["stage"] != "idea"],
        )
        self.control(
            f"c-{code}-review",
            f"{dept.function} periodic model review",
            "model_review",
            dept.risk_officer,
            [m for m in dept.models if self.by_id[m]["stage"] in ACTIVE_MODEL],
        )
        self.control(
            f"c-{code}-runbook",
            f"{dept.function} model incident runbook",
            "incident_response",
            dept.mlops_lead,
            [m for m in dept.models if self.by_id[m]["stage"] == "production"],
        )

    def division_controls(self, div: _Division) -> None:
        models = [self.by_id[m] for dept in div.departments for m in dept.models]
        code = div.unit[2:]
        self.control(
            f"c-{code}-audit",
            "High-risk model audit",
            "audit",
            div.risk_head,
            [m["id"] for m in models if m.get("risk_tier") == "high" and m["stage"] in ACTIVE_MODEL],
        )
        self.control(
            f"c-{code}-inc",
            "AI incident response",
            "incident_response",
            div.head,
            [m["id"] for m in models if m["stage"] == "production"],
        )
        self.control(
            f"c-{code}-bias",
            "Bias testing",
            "bias_testing",
            div.risk_head,
            [m["id"] for m in models if m["stage"] in TIERED_MODEL and m.get("risk_tier") != "minimal"],
        )

    def group_controls(self, mrm: str, cdo: str) -> None:
        models = self.sections["models"]
        self.control(
            "c-g-review",
            "Independent model review",
            "model_review",
            mrm,
            [m["id"] for m in models if m.get("risk_tier") == "high" and m["stage"] == "production"],
        )
        restricted = {d["id"] for d in self.sections["data_domains"] if d["classification"] == "restricted"}
        self.control(
            "c-g-access",
            "Restricted data access review",
            "access_review",
            cdo,
            [m["id"] for m in models if m["stage"] in ACTIVE_MODEL and any(d in restricted for d in m["consumes"])],
        )

    def near_misses(self) -> None:
        high = next(
            m
            for d in self.departments
            for m in d.models
            if self.by_id[m]["stage"] == "production" and self.by_id[m].get("risk_tier") == "high"
        )
        self.by_id[high]["last_reviewed"] = _day(REVIEW_MAX_AGE_DAYS)
        self.touched.add(high)
        self.by_id[self.big_vendors[-1]]["contract_end"] = AS_OF.isoformat()
        self.touched.add(self.big_vendors[-1])
        legacy = self.add(
            "vendors",
            {
                "id": "v-legacy",
                "name": "Legacy Scoring Ltd",
                "owner": self.by_id["v-big1"]["owner"],
                "contract_end": _day(400),
            },
        )
        self.touched.add(legacy["id"])
        for m in self.departments[1].models:
            if self.by_id[m]["stage"] in ("idea", "retired"):
                self.by_id[m]["vendor"] = legacy["id"]
                self.touched.add(m)

    # --- planting ----------------------------------------------------------------------------

    def take(self, section: str, *fits: Callable[[Entity], bool]) -> Entity:
        """An untouched background entity of `section`, chosen at random, now touched.

        It fits the first of `fits` that any entity fits; later ones are fallbacks for small sizes.
        """
        for fit in fits:
            for e in self.pools[section]:
                if e["id"] not in self.touched and e["id"] not in self.dropped and fit(e):
                    self.touched.add(e["id"])
                    return e
        raise RuntimeError(f"synth: no {section} left to plant a gap in; use a larger size")

    def expect(self, check: str, subjects: list[str], accountable: str | None, tier: str | None = None) -> None:
        severity = "critical" if check in RAISED_FOR_HIGH_RISK and tier == "high" else DEFAULT_SEVERITY[check]
        self.planted.append((check, severity, subjects, accountable))

    def new_role(self, dept: _Department, stem: str, name: str, held: bool, escalates: bool = True) -> str:
        rid = self.role(
            self.next_id(f"r-{dept.unit[2:]}-{stem}"), name, dept.unit, dept.head, dept.head if escalates else None
        )
        if held:
            self.person([rid])
        return rid

    def plant(self) -> None:
        n = self.scale.plants
        for section in SECTIONS:  # plants draw only on the background, never on another plant
            pool = [e for e in self.sections[section] if e["id"] not in self.touched]
            self.rng.shuffle(pool)
            self.pools[section] = pool
        steps: list[Callable[[int], None]] = [
            self.plant_model_without_owner,
            self.plant_model_without_change_approver,
            self.plant_no_shutdown_authority,
            self.plant_self_approved_model,
            self.plant_vacant_decision_role,
            self.plant_broken_escalation_chain,
            self.plant_missing_risk_tier,
            self.plant_prohibited_model_active,
            self.plant_high_risk_without_human_oversight,
            self.plant_overdue_model_review,
            self.plant_unmonitored_production_model,
            self.plant_control_without_operator,
            self.plant_experiment_in_production,
            self.plant_workflow_without_owner,
            self.plant_orphan_data_domain,
            self.plant_contested_data_ownership,
            self.plant_blocked_data_dependency,
            self.plant_data_ownership_deadlock,
            self.plant_use_case_without_kpi,
            self.plant_use_case_without_sponsor,
            self.plant_model_without_business_case,
            self.plant_kpi_without_owner,
        ]
        for step in steps:
            for i in range(n):
                step(i)
        self.plant_vendor_concentration()  # after every plant that moves a model in or out of the base
        for i in range(n):
            self.plant_expired_vendor_contract(i)
            self.plant_vendor_without_owner(i)
        for i in range(n):
            self.plant_late_incident_report(i)
            self.plant_incident_without_owner(i)
            self.plant_system_without_owner(i)
            self.plant_initiative_without_accountable(i)
            self.plant_overdue_initiative(i)
        self.plant_tom()
        for i in range(n if n >= 5 else 1):  # three models each: one in small, so that it has enough
            self.plant_single_point_of_shutdown(i)
        for i in range(n):
            self.plant_policy_missing_right(i)
            self.plant_policy_missing_control(i)
            self.plant_policy_weak_oversight(i)
            self.plant_policy_review_overdue(i)
            self.plant_policy_missing_evidence(i)
            self.plant_delegated_self_approval(i)
        self.spof_near_misses()
        self.expect_policy_echoes()
        self.deputies()

    def deputies(self) -> None:
        """After the plants: every role that can stop a production high-risk model gets a deputy
        held by someone else, so that no person is a single point of shutdown, but for the roles
        of the single-point-of-shutdown plants and near misses (`no_deputy`)."""
        giving = sorted(
            {
                r
                for m in self.sections["models"]
                if m["stage"] == "production" and m.get("risk_tier") == "high"
                for r in m.get("shutdown_authority", ())
            }
        )
        for rid in giving:
            role = self.by_id[rid]
            if "deputy" in role or rid in self.no_deputy:
                continue
            deputy = self.role(self.next_id(f"{rid}-dep"), f"Deputy {role['name']}", role["unit"], rid, rid)
            self.person([deputy])
            role["deputy"] = deputy

    def plant_late_incident_report(self, i: int) -> None:
        category = ("death", "critical_infrastructure", "widespread", "other")[i % 4]
        days = REPORT_DAYS.get(category, 15)
        owner = self.departments[i % len(self.departments)].head
        incident: Entity = {
            "id": self.next_id("inc-"),
            "name": f"Serious incident {i + 1}",
            "severity": "high",
            "serious": True,
            "category": category,
            "aware": _day(60),
            "owner": owner,
        }
        if i % 2 == 0:  # reported a day late; otherwise still not reported
            incident["reported"] = _day(60 - days - 1)
        self.add("incidents", incident)
        self.expect("late-incident-report", [incident["id"]], owner)

    def plant_incident_without_owner(self, i: int) -> None:
        incident = self.add(
            "incidents",
            {"id": self.next_id("inc-"), "name": f"Unowned incident {i + 1}", "severity": "medium", "aware": _day(5)},
        )
        self.expect("incident-without-owner", [incident["id"]], None)

    def plant_system_without_owner(self, i: int) -> None:
        system = self.add(
            "systems",
            {"id": self.next_id("s-"), "name": f"Unowned system {i + 1}", "stage": ("build", "production")[i % 2]},
        )
        self.expect("system-without-owner", [system["id"]], None)

    def plant_initiative_without_accountable(self, i: int) -> None:
        initiative = self.add(
            "initiatives",
            {"id": self.next_id("ini-"), "name": f"Initiative nobody leads {i + 1}", "status": "proposed"},
        )
        self.planted_for_tom_owner.append(("initiative-without-accountable", initiative["id"]))

    def plant_overdue_initiative(self, i: int) -> None:
        initiative = self.add(
            "initiatives",
            {
                "id": self.next_id("ini-"),
                "name": f"Late initiative {i + 1}",
                "status": ("approved", "in_progress")[i % 2],
                "accountable": "r-coo",
                "due": _day(1 + i),
            },
        )
        self.planted_for_tom_owner.append(("overdue-initiative", initiative["id"]))

    def plant_tom(self) -> None:
        """The TOM's owner becomes a role that is not executive, its last review too old."""
        owner = self.departments[0].head
        self.meta = {"owner": owner, "reviewed": _day(TOM_REVIEW_MAX_AGE_DAYS + 1)}
        self.expect("tom-without-owner", [owner], None)
        self.expect("tom-review-overdue", [owner], None)
        for check, initiative in self.planted_for_tom_owner:
            self.expect(check, [initiative], owner)

    def plant_model_without_owner(self, i: int) -> None:
        m = self.take("models", lambda m: m["stage"] in ACTIVE_MODEL)
        del m["owner"]
        self.expect("model-without-owner", [m["id"]], None)

    def plant_model_without_change_approver(self, i: int) -> None:
        high = i % 2 == 0
        m = self.take(
            "models",
            lambda m: m["stage"] in ACTIVE_MODEL and (m.get("risk_tier") == "high") == high,
            lambda m: m["stage"] in ACTIVE_MODEL,
        )
        del m["change_approvers"]
        self.expect("model-without-change-approver", [m["id"]], m["owner"], m.get("risk_tier"))

    def plant_no_shutdown_authority(self, i: int) -> None:
        m = self.take("models", lambda m: m["stage"] == "production")
        del m["shutdown_authority"]
        self.expect("no-shutdown-authority", [m["id"]], m["owner"])

    def plant_self_approved_model(self, i: int) -> None:
        m = self.take("models", lambda m: m["stage"] in ACTIVE_MODEL)
        if i % 2 == 0:  # one role builds and approves
            builder = m["developers"][0]
            m["developers"] = [builder]
            m["change_approvers"].append(builder)
            roles = [builder]
        else:  # one person holds a builder role and the approver role
            dept = self.dept_of[m["id"]]
            contractor = self.role(
                self.next_id(f"r-{dept.unit[2:]}-contractor"),
                f"{dept.function} Contract Data Scientist",
                dept.unit,
                dept.ds_lead,
                dept.ds_lead,
            )
            m["developers"].append(contractor)
            approver = m["change_approvers"][0]
            self.person([contractor, approver])
            roles = sorted([contractor, approver])
        self.expect("self-approved-model", [m["id"], *roles], m["owner"], m.get("risk_tier"))

    def plant_vacant_decision_role(self, i: int) -> None:
        variant = i % 6
        if variant == 0:
            m = self.take("models", lambda m: m["stage"] in ACTIVE_MODEL)
            dept = self.dept_of[m["id"]]
            vacant = self.new_role(dept, "dep", f"Deputy {dept.function} ML Operations Lead", held=False)
            m["deployment_approvers"].append(vacant)
        elif variant == 1:
            dept = self.rng.choice(self.departments[1:])
            vacant = self.new_role(dept, "fair", f"{dept.function} Fairness Analyst", held=False)
            self.control(
                self.next_id(f"c-{dept.unit[2:]}-fair"),
                f"{dept.function} fairness testing",
                "bias_testing",
                vacant,
                dept.models[:2],
            )
        elif variant == 2:
            row = self.take(
                "access",
                lambda a: (
                    a["status"] == "granted" and a["consumer"] in self.dept_of and a["consumer"] not in self.touched
                ),
            )
            self.touched.add(row["consumer"])
            dept = self.dept_of[row["consumer"]]
            vacant = self.new_role(dept, "steward", f"{dept.function} Data Steward", held=False)
            row["approver"] = vacant
        elif variant in (3, 5):
            u = self.take("use_cases", lambda u: u["stage"] in LIVE_USE_CASE)
            dept = self.dept_of[u["id"]]
            vacant = self.new_role(dept, "fin", f"{dept.function} Finance Partner", held=False)
            if variant == 3:
                u["approved_by"].append(vacant)
            else:
                u["budget_owner"] = vacant
        else:
            dept = self.rng.choice(self.departments[1:])
            vacant = self.new_role(dept, "arch", f"{dept.function} Records Owner", held=False)
            self.domain(self.next_id(f"dd-{dept.unit[2:]}-archive"), f"{dept.function} archive", [vacant])
        self.expect("vacant-decision-role", [vacant], self.by_id[vacant]["reports_to"])

    def plant_broken_escalation_chain(self, i: int) -> None:
        m = self.take("models", lambda m: m["stage"] in ACTIVE_MODEL)
        dept = self.dept_of[m["id"]]
        owner = self.new_role(dept, "mpo", f"{dept.function} Model Product Owner", held=True, escalates=False)
        m["owner"] = owner
        variant = i % 5
        if variant > 0 and variant != 3:
            contact = self.new_role(dept, "pm", f"{dept.function} Programme Manager", held=True, escalates=False)
            self.by_id[owner]["escalates_to"] = contact
            if variant == 2:
                self.by_id[contact]["escalates_to"] = owner
            elif variant == 4:
                other = self.new_role(dept, "pm", f"{dept.function} Delivery Manager", held=True, escalates=False)
                self.by_id[contact]["escalates_to"] = other
                self.by_id[other]["escalates_to"] = contact
        elif variant == 3:
            self.by_id[owner]["escalates_to"] = owner
        self.expect("broken-escalation-chain", [owner], owner)

    def plant_missing_risk_tier(self, i: int) -> None:
        stage = ("experiment", "production", "pilot")[i % 3]
        m = self.take("models", lambda m: m["stage"] == stage, lambda m: m["stage"] in TIERED_MODEL)
        del m["risk_tier"]
        self.expect("missing-risk-tier", [m["id"]], m["owner"])

    def plant_prohibited_model_active(self, i: int) -> None:
        stage = ("experiment", "pilot", "production")[i % 3]
        m = self.take("models", lambda m: m["stage"] == stage, lambda m: m["stage"] in TIERED_MODEL)
        m["risk_tier"] = "unacceptable"
        self.expect("prohibited-model-active", [m["id"]], m["owner"])

    def plant_high_risk_without_human_oversight(self, i: int) -> None:
        m = self.take("models", lambda m: m["stage"] in ACTIVE_MODEL and m.get("risk_tier") == "high")
        if i % 2 == 0:
            m["human_oversight"] = "none"
        else:
            del m["human_oversight"]
        self.expect("high-risk-without-human-oversight", [m["id"]], m["owner"])

    def plant_overdue_model_review(self, i: int) -> None:
        m = self.take("models", lambda m: m["stage"] == "production" and m.get("risk_tier") == "high")
        if i % 2 == 0:
            m["last_reviewed"] = _day(self.rng.randint(REVIEW_MAX_AGE_DAYS + 1, 900))
        else:
            del m["last_reviewed"]
        self.expect("overdue-model-review", [m["id"]], m["owner"])

    def plant_unmonitored_production_model(self, i: int) -> None:
        m = self.take("models", lambda m: m["stage"] == "production" and m["id"] in self.dept_of)
        dept = self.dept_of[m["id"]]
        if dept.monitoring:
            self.by_id[dept.monitoring]["applies_to"].remove(m["id"])
        self.expect("unmonitored-production-model", [m["id"]], m["owner"])

    def plant_control_without_operator(self, i: int) -> None:
        c = self.take("controls", lambda c: "operated_by" in c)
        del c["operated_by"]
        self.expect("control-without-operator", [c["id"]], None)

    def plant_experiment_in_production(self, i: int) -> None:
        stage = ("experiment", "idea", "experiment", "retired")[i % 4]
        m = self.take("models", lambda m: m["stage"] == stage, lambda m: m["stage"] in NOT_READY)
        w = self.take("workflows", lambda w: w["stage"] == "production")
        w.setdefault("uses", []).append(m["id"])
        self.expect("experiment-in-production", [w["id"], m["id"]], w["owner"])

    def plant_workflow_without_owner(self, i: int) -> None:
        w = self.take("workflows", lambda w: w["stage"] in ACTIVE_WORKFLOW)
        del w["owner"]
        self.expect("workflow-without-owner", [w["id"]], None)

    def plant_orphan_data_domain(self, i: int) -> None:
        if i % 2 == 0:
            dept = self.rng.choice(self.departments[1:])
            d = self.by_id[
                self.domain(self.next_id(f"dd-{dept.unit[2:]}-legacy"), f"{dept.function} legacy extracts", [])
            ]
        else:
            d = self.take("data_domains", lambda d: d["id"] not in self.data_ops_domains)
        del d["owners"]
        self.expect("orphan-data-domain", [d["id"]], None)

    def plant_contested_data_ownership(self, i: int) -> None:
        if i % 2 == 0:
            dept = self.rng.choice(self.departments[1:])
            d = self.by_id[
                self.domain(
                    self.next_id(f"dd-{dept.unit[2:]}-shared"),
                    f"{dept.function} shared extracts",
                    [dept.data_owner, dept.division.data_officer],
                )
            ]
        else:
            d = self.take("data_domains", lambda d: len(d["owners"]) == 1)
            officers = [div.data_officer for div in self.divisions[1:] if div.data_officer != d["owners"][0]]
            d["owners"].append(self.rng.choice(officers))
        self.expect("contested-data-ownership", [d["id"]], None)

    def plant_blocked_data_dependency(self, i: int) -> None:
        section = "models" if i % 2 == 0 else "workflows"
        active = ACTIVE_MODEL if section == "models" else ACTIVE_WORKFLOW
        field_ = "consumes" if section == "models" else "reads"

        def fits(c: Entity) -> bool:
            return c["stage"] in active and any(d not in self.touched for d in c.get(field_, ()))

        c = self.take(section, fits)
        d = next(d for d in c[field_] if d not in self.touched)
        self.touched.add(d)
        rows = [r for r in self.rows_of[c["id"]] if r["data_domain"] == d and r["status"] == "granted"]
        status = ("missing", "revoked", "pending", "denied")[i % 4]
        for r in rows:
            if status == "missing":
                self.dropped.add(r["id"])
            else:
                r["status"] = status
        self.expect("blocked-data-dependency", [c["id"], d], self.by_id[d]["owners"][0])

    def plant_data_ownership_deadlock(self, i: int) -> None:
        size = 3 if i % 3 == 1 else 2
        stages = (("production", "production"), ("design", "design", "design"), ("pilot", "design"))[i % 3]
        depts = self.rng.sample(self.departments[1:], size)
        roles = [self.new_role(dept, "dp", f"{dept.function} Data Products Lead", held=True) for dept in depts]
        domains = [
            self.domain(self.next_id(f"dd-{dept.unit[2:]}-ops"), f"{dept.function} operational data", [r])
            for dept, r in zip(depts, roles, strict=True)
        ]
        for k, (dept, role) in enumerate(zip(depts, roles, strict=True)):
            theirs = domains[(k + 1) % size]
            wid = self.next_id(f"wf-{dept.unit[2:]}-exchange")
            self.add(
                "workflows",
                {
                    "id": wid,
                    "name": f"{dept.function} data exchange",
                    "unit": dept.unit,
                    "owner": role,
                    "stage": stages[k],
                    "reads": [domains[k], theirs],
                },
            )
            self.touched.add(wid)
            self.access(wid, theirs, "pending" if k % 2 == 0 else "denied", roles[(k + 1) % size])
            if stages[k] in ACTIVE_WORKFLOW:
                self.expect("blocked-data-dependency", [wid, theirs], roles[(k + 1) % size])
        self.expect("data-ownership-deadlock", sorted(roles), None)

    def plant_use_case_without_kpi(self, i: int) -> None:
        u = self.take("use_cases", lambda u: u["stage"] in LIVE_USE_CASE and "kpis" in u)
        del u["kpis"]
        self.expect("use-case-without-kpi", [u["id"]], u["sponsor"])

    def plant_use_case_without_sponsor(self, i: int) -> None:
        u = self.take("use_cases", lambda u: u["stage"] in LIVE_USE_CASE)
        del u["sponsor"]
        self.expect("use-case-without-sponsor", [u["id"]], None)

    def plant_model_without_business_case(self, i: int) -> None:
        m = self.take("models", lambda m: m["stage"] == "production" and m["id"] in self.dept_of)
        dept = self.dept_of[m["id"]]
        for other in dept.workflows:
            uses = self.by_id[other].get("uses", [])
            if m["id"] in uses:
                uses.remove(m["id"])
        for uid in dept.use_cases:
            u = self.by_id[uid]
            if u["stage"] in LIVE_USE_CASE and m["id"] in u.get("models", ()):
                u["models"].remove(m["id"])
        self.expect("model-without-business-case", [m["id"]], m["owner"])

    def plant_kpi_without_owner(self, i: int) -> None:
        k = self.take("kpis", lambda k: True)
        del k["owner"]
        self.expect("kpi-without-owner", [k["id"]], None)

    def plant_vendor_concentration(self) -> None:
        """The first big vendor, without an exit plan, supplies about 60% of production high-risk models."""
        vendor = self.by_id[self.big_vendors[0]]
        base = [m for m in self.sections["models"] if m["stage"] == "production" and m.get("risk_tier") == "high"]
        assert len(base) >= VENDOR_MIN_MODELS
        others = [m for m in base if m.get("vendor") != vendor["id"]]
        self.rng.shuffle(others)
        short = math.ceil(0.6 * len(base)) - (len(base) - len(others))
        for m in others[: max(0, short)]:
            m["vendor"] = vendor["id"]
        vendor["exit_plan"] = False
        self.touched.add(vendor["id"])
        self.expect("vendor-concentration", [vendor["id"]], vendor["owner"])

    def take_vendor(self) -> Entity:
        return self.take("vendors", lambda v: v["id"] in self.small_vendors)

    def plant_expired_vendor_contract(self, i: int) -> None:
        v = self.take_vendor()
        m = self.take("models", lambda m: m["stage"] in ACTIVE_MODEL and m.get("risk_tier") != "high")
        m["vendor"] = v["id"]
        v["contract_end"] = _day(self.rng.randint(1, 400))
        self.expect("expired-vendor-contract", [v["id"]], v["owner"])

    def plant_vendor_without_owner(self, i: int) -> None:
        v = self.take_vendor()
        del v["owner"]
        self.expect("vendor-without-owner", [v["id"]], None)

    # --- catalog 1.1: policies, evidence, delegations ----------------------------------------

    def evidence(
        self, kind_: str, name: str, about: list[str], owner: str, issued: str, expires: str | None = None
    ) -> Entity:
        eid = self.next_id("ev-")
        e: Entity = {"id": eid, "name": name, "kind": kind_, "about": list(about), "issued": issued, "owner": owner}
        if expires:
            e["expires"] = expires
        e["uri"] = f"https://docs.example.com/ai-governance/{eid}"
        for mid in about:
            self.evidence_of.setdefault(mid, []).append(e)
        return self.add("evidence", e)

    def delegation(
        self,
        from_: str,
        to: str,
        right: str,
        models: list[str] | None = None,
        valid_from: str | None = None,
        valid_to: str | None = None,
    ) -> Entity:
        d: Entity = {"id": self.next_id("dg-"), "from": from_, "to": to, "right": right}
        if models:
            d["models"] = list(models)
        if valid_from:
            d["valid_from"] = valid_from
        if valid_to:
            d["valid_to"] = valid_to
        return self.add("delegations", d)

    def holders_of(self, rid: str) -> list[Entity]:
        return [p for p in self.sections["people"] if rid in p.get("holds", ())]

    def governance(self) -> None:
        """Background of policies, evidence and delegations, with near misses and no finding.

        One policy per risk tier (`POLICIES`), which every active model of the tier meets: high
        models are in the loop and can be stopped in pilot too, limited ones at least on the loop
        and reviewed within two years. Each production high-risk model has its technical
        documentation, and its department a current risk assessment of them all (one department
        keeps an expired one next to it). Delegations: the group's model risk head passes change
        approval to a validation lead; each division's data officer passes access approval to a
        department's data owner; each department head passes shutdown to a product owner for a
        holiday (in force, over, or to come). Models get an `operator_role` (deployer when a
        vendor supplies them). Near misses: a tech doc issued on the as-of date, one expiring
        the day after it; a limited model reviewed exactly 730 days before; change approvals
        delegated to a developer that expired the day before, start the day after, or cover
        another model.
        """
        rng = self.rng
        for level, rules in POLICIES.items():
            policy: Entity = {
                "id": f"pol-{level}",
                "name": f"{level.capitalize()}-risk model policy",
                "risk_tier": level,
            }
            self.add("policies", {**policy, **copy.deepcopy(rules)})
        for m in self.sections["models"]:
            tier, stage = m.get("risk_tier"), m["stage"]
            if stage != "idea":
                m["operator_role"] = "deployer" if m.get("vendor") else "provider"
            if stage not in ACTIVE_MODEL:
                continue
            if tier == "high":
                m["human_oversight"] = "in_the_loop"
                m.setdefault("shutdown_authority", [self.dept_of[m["id"]].mlops_lead])
            elif tier == "limited":
                if m.get("human_oversight") not in OVERSIGHT_LEVEL:
                    m["human_oversight"] = "on_the_loop"
                if stage == "production" and m.get("last_reviewed", "") < _day(
                    POLICIES["limited"]["review_max_age_days"]
                ):
                    m["last_reviewed"] = _day(rng.randint(0, 700))
        for dept in self.departments:
            high = [
                mid
                for mid in dept.models
                if self.by_id[mid]["stage"] == "production" and self.by_id[mid].get("risk_tier") == "high"
            ]
            for mid in high:
                name = f"Technical documentation: {self.by_id[mid]['name']}"
                self.evidence("technical_documentation", name, [mid], dept.ds_lead, _day(rng.randint(30, 700)))
            if high:
                issued = rng.randint(10, 300)
                name = f"{dept.function} high-risk model risk assessment"
                self.evidence("risk_assessment", name, high, dept.risk_officer, _day(issued), _day(issued - 365))
        lead = self.role("r-g-mvl", "Model Validation Lead", "u-g", "r-g-mrm", "r-g-mrm")
        self.person([lead])
        self.delegation("r-g-mrm", lead, "change_approval", valid_from=_day(120), valid_to=_day(-240))
        for div in self.divisions[1:]:
            if div.departments:
                self.delegation(div.data_officer, div.departments[0].data_owner, "access_approval", None, _day(200))
        for dept in self.departments:
            start = rng.choice((rng.randint(0, 20), rng.randint(0, 20), rng.randint(40, 200), -rng.randint(1, 30)))
            self.delegation(dept.head, dept.product_owners[0], "shutdown", None, _day(start), _day(start - 21))
        self.governance_near_misses()

    def governance_near_misses(self) -> None:
        """The near misses of `governance` (its docstring lists them); their models are touched."""

        def documented(mid: str) -> bool:
            return mid not in self.touched and self.by_id[mid]["stage"] == "production" and mid in self.evidence_of

        dept = next(
            d
            for d in self.departments
            if sum(1 for m in d.models if documented(m) and self.by_id[m].get("risk_tier") == "high") >= 2
        )
        first, second = [m for m in dept.models if documented(m) and self.by_id[m].get("risk_tier") == "high"][:2]
        docs = {e["kind"]: e for e in self.evidence_of[first]}
        docs["technical_documentation"]["issued"] = _day(0)
        docs = {e["kind"]: e for e in self.evidence_of[second]}
        docs["technical_documentation"]["expires"] = _day(-1)
        current = docs["risk_assessment"]
        self.evidence(
            "risk_assessment",
            current["name"] + " (previous)",
            current["about"],
            dept.risk_officer,
            _day(500),
            _day(135),
        )
        self.touched.update((first, second))
        limited = next(
            m
            for m in self.sections["models"]
            if m["stage"] == "production" and m.get("risk_tier") == "limited" and m["id"] not in self.touched
        )
        limited["last_reviewed"] = _day(POLICIES["limited"]["review_max_age_days"])
        self.touched.add(limited["id"])
        model, developer, other = next(self.scope_near_miss())
        approver = model["change_approvers"][0]
        self.delegation(approver, developer, "change_approval", [model["id"]], _day(60), _day(1))
        self.delegation(approver, developer, "change_approval", [model["id"]], _day(-1))
        self.delegation(approver, developer, "change_approval", [other["id"]], _day(30))
        self.touched.update((model["id"], other["id"]))

    def scope_near_miss(self) -> Iterator[tuple[Entity, str, Entity]]:
        """(model, a developer role of it, another model of the department none of that role's
        holders develops), both active and untouched."""
        for dept in self.departments[1:]:
            active = [
                self.by_id[m] for m in dept.models if self.by_id[m]["stage"] in ACTIVE_MODEL and m not in self.touched
            ]
            for model in active:
                for developer in model["developers"]:
                    held = {r for p in self.holders_of(developer) for r in p["holds"]}
                    for other in active:
                        if not held & set(other["developers"]):
                            yield model, developer, other

    def plant_policy_missing_right(self, i: int) -> None:
        """A high-risk model without deployment approvers; a pilot one that nobody can stop either."""

        def high(stage: str) -> Callable[[Entity], bool]:
            return lambda m: m["stage"] == stage and m.get("risk_tier") == "high"

        m = self.take("models", high(("production", "pilot")[i % 2]), high("pilot"), high("production"))
        del m["deployment_approvers"]
        if m["stage"] == "pilot" and i % 2 == 1:
            del m["shutdown_authority"]
        self.expect("policy-missing-right", [m["id"]], m["owner"])

    def plant_policy_missing_control(self, i: int) -> None:
        """A production high-risk model taken out of its human review, its model reviews, or both."""
        m = self.take("models", lambda m: m["stage"] == "production" and m.get("risk_tier") == "high")
        kinds = (("human_review",), ("model_review",), ("human_review", "model_review"))[i % 3]
        for c in self.sections["controls"]:
            if c["kind"] in kinds and m["id"] in c.get("applies_to", ()):
                c["applies_to"].remove(m["id"])
        self.expect("policy-missing-control", [m["id"]], m["owner"])

    def plant_policy_weak_oversight(self, i: int) -> None:
        """A high-risk model only on the loop; limited ones with no oversight, said or unsaid."""
        tier = ("high", "limited", "limited")[i % 3]
        m = self.take("models", lambda m: m["stage"] in ACTIVE_MODEL and m.get("risk_tier") == tier)
        if tier == "high":
            m["human_oversight"] = "on_the_loop"
        elif i % 3 == 1:
            m["human_oversight"] = "none"
        else:
            del m["human_oversight"]
        self.expect("policy-weak-oversight", [m["id"]], m["owner"])

    def plant_policy_review_overdue(self, i: int) -> None:
        """A limited-risk production model reviewed longer ago than its policy's 730 days, or never."""
        m = self.take("models", lambda m: m["stage"] == "production" and m.get("risk_tier") == "limited")
        if i % 2 == 0:
            days = POLICIES["limited"]["review_max_age_days"]
            m["last_reviewed"] = _day(self.rng.randint(days + 1, days + 300))
        else:
            del m["last_reviewed"]
        self.expect("policy-review-overdue", [m["id"]], m["owner"])

    def plant_policy_missing_evidence(self, i: int) -> None:
        """A production high-risk model whose technical documentation expires on the as-of date, is
        issued after it, or is gone, or that its department's risk assessment leaves out."""
        m = self.take(
            "models",
            lambda m: m["stage"] == "production" and m.get("risk_tier") == "high" and m["id"] in self.evidence_of,
        )
        docs: dict[str, Entity] = {}
        for e in self.evidence_of[m["id"]]:
            docs.setdefault(e["kind"], e)  # the current one, not a previous expired one
        variant = i % 4
        if variant == 0:
            docs["technical_documentation"]["expires"] = _day(0)
        elif variant == 2:
            docs["technical_documentation"]["issued"] = _day(-7)
        if variant in (1, 3):
            assessment = docs["risk_assessment"]
            assessment["about"].remove(m["id"])
            if not assessment["about"]:
                self.dropped.add(assessment["id"])
        if variant == 3:
            self.dropped.add(docs["technical_documentation"]["id"])
        self.expect("policy-missing-evidence", [m["id"]], m["owner"])

    def plant_delegated_self_approval(self, i: int) -> None:
        """A change approver of an active model delegates change approval of it to a developer: to
        the developer's role, to the person up to the as-of date, or to the person twice."""
        m = self.take("models", lambda m: m["stage"] in ACTIVE_MODEL and m["id"] in self.dept_of)
        developer = m["developers"][0]
        people = self.holders_of(developer)
        approvers = m["change_approvers"]
        variant = i % 3
        if variant == 0:
            self.delegation(approvers[0], developer, "change_approval", [m["id"]], _day(30))
        else:
            people = people[:1]
            if variant == 1:
                self.delegation(approvers[0], people[0]["id"], "change_approval", [m["id"]], _day(10), _day(0))
            else:
                self.delegation(approvers[0], people[0]["id"], "change_approval", [m["id"]], _day(20), _day(-20))
                self.delegation(approvers[-1], people[0]["id"], "change_approval", [m["id"]], _day(5))
        for person in people:
            self.expect("delegated-self-approval", [m["id"], person["id"]], m["owner"], m.get("risk_tier"))

    def plant_single_point_of_shutdown(self, i: int) -> None:
        """One person alone can stop three production high-risk models through an incident
        commander role: with no deputy, a deputy they hold themselves, a deputy nobody holds, a
        stand-in whose delegation ended the day before, or through two roles."""
        models = [
            self.take("models", lambda m: m["stage"] == "production" and m.get("risk_tier") == "high")
            for _ in range(SPOF_MIN_MODELS)
        ]
        role = self.role(self.next_id("r-g-aic"), f"AI Incident Commander {i + 1}", "u-g", "r-cro", "r-cro")
        person = self.person([role])
        self.no_deputy.add(role)
        for m in models:
            m["shutdown_authority"] = [role]
        variant = i % 5
        if variant in (1, 2):
            deputy = self.role(self.next_id("r-g-aicd"), f"Deputy AI Incident Commander {i + 1}", "u-g", role, role)
            self.by_id[role]["deputy"] = deputy
            if variant == 1:
                person["holds"].append(deputy)
        elif variant == 3:
            self.delegation(role, "r-coo", "shutdown", None, _day(30), _day(1))
        elif variant == 4:
            second = self.role(self.next_id("r-g-aic"), f"AI Platform Owner {i + 1}", "u-g", "r-cro", "r-cro")
            person["holds"].append(second)
            self.no_deputy.add(second)
            models[-1]["shutdown_authority"] = [second]
        self.expect("single-point-of-shutdown", [person["id"]], None)

    def spof_near_misses(self) -> None:
        """Where the size leaves production high-risk models: a commander alone on two models only,
        and one alone on three whose stand-in's delegation is in force."""
        for count, stand_in in ((SPOF_MIN_MODELS - 1, False), (SPOF_MIN_MODELS, True)):
            try:
                models = [
                    self.take("models", lambda m: m["stage"] == "production" and m.get("risk_tier") == "high")
                    for _ in range(count)
                ]
            except RuntimeError:
                return
            role = self.role(self.next_id("r-g-aic"), "AI Incident Commander", "u-g", "r-cro", "r-cro")
            self.person([role])
            self.no_deputy.add(role)
            for m in models:
                m["shutdown_authority"] = [role]
            if stand_in:
                self.delegation(role, "r-coo", "shutdown", None, _day(30), _day(0))

    def expect_policy_echoes(self) -> None:
        """The policy findings that catalog 1.0 plants set off: a policy restates some 1.0 rules
        (an owner, change approvers, shutdown authority, monitoring, oversight, yearly review)."""
        for check, _, subjects, accountable in list(self.planted):
            if check not in ECHOES:
                continue
            echo, required = ECHOES[check]
            policy = POLICIES.get(self.by_id[subjects[0]].get("risk_tier") or "")
            if policy is None:
                continue
            if echo == "policy-missing-right":
                applies = required in policy.get("require_rights", ())
            elif echo == "policy-missing-control":
                applies = required in policy.get("require_controls", ())
            elif echo == "policy-weak-oversight":
                applies = "human_oversight" in policy
            else:  # the plant is older than REVIEW_MAX_AGE_DAYS, or never reviewed
                applies = policy.get("review_max_age_days", REVIEW_MAX_AGE_DAYS + 1) <= REVIEW_MAX_AGE_DAYS
            if applies:
                self.expect(echo, [subjects[0]], accountable)

    # --- output ------------------------------------------------------------------------------

    def bundle(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": 1.1, "meta": self.meta}
        for section in SECTIONS:
            entities = [e for e in self.sections[section] if e["id"] not in self.dropped]
            for e in entities:
                for key in [k for k, v in e.items() if v is None or v == []]:
                    del e[key]
            out[section] = entities
        return out


def _sorted_findings(findings: list[tuple[str, str, list[str], str | None]]) -> list[dict[str, Any]]:
    rows = sorted(findings, key=lambda f: (SEVERITY_RANK[f[1]], f[0], f[2]))
    return [{"check": c, "severity": s, "subjects": subj, "accountable": a} for c, s, subj, a in rows]


def generate(size: str, seed: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    """A synthetic bundle of `size` (small, medium, large) and the findings it must produce.

    Returns (bundle, expected): the bundle in its single-file form (`{"format": 1, "units": ...}`)
    and `{"scenario": "current", "as_of": AS_OF, "findings": [...]}`, each finding with `check`,
    `severity`, `subjects`, `accountable`, `message` and `remediation`, as the check run prints
    it. The same (size, seed) always gives the same result.
    """
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    synth = _Synth(SIZES[size], seed)
    synth.build()
    synth.plant()
    bundle = synth.bundle()
    planted = _sorted_findings(synth.planted)
    derived = derive_findings(bundle)
    if derived != planted:
        missing = [f for f in planted if f not in derived][:5]
        extra = [f for f in derived if f not in planted][:5]
        raise RuntimeError(f"synth: planted gaps disagree with the spec; missing {missing}, unexpected {extra}")
    return bundle, {"scenario": "current", "as_of": AS_OF.isoformat(), "findings": with_texts(planted, bundle)}


def with_texts(findings: list[dict[str, Any]], bundle: dict[str, Any], as_of: date = AS_OF) -> list[dict[str, Any]]:
    """`findings` (check, severity, subjects, accountable) with the `message` and `remediation` a run prints.

    The message is the check file's template filled with values read from `bundle`; the
    remediation is the check file's.
    """
    catalog = load_catalog()
    values = _MessageValues(bundle, as_of, catalog)
    out = []
    for f in findings:
        check = catalog.get(f["check"])
        assert check.message is not None, f"built-in check {check.id} has no message template"
        variant, fields = values.of(f["check"], f["subjects"])
        text = {"message": check.message.render(fields, variant), "remediation": check.spec.remediation}
        details = {"details": {"missing": fields["missing"]}} if f["check"] in DETAILS_CHECKS else {}
        out.append({**f, **text, **details})
    return out


def count(bundle: dict[str, Any]) -> tuple[int, int]:
    """(entities, relationships) of a bundle: one relationship per referenced id."""
    entities = relationships = 0
    for k in KINDS:
        items = bundle.get(k.section, ())
        for e in [items] if k.singleton and items else items:
            entities += 1
            for ref in k.references:
                value = e.get(ref.name)
                if value:
                    relationships += len(value) if isinstance(value, list) else 1
    return entities, relationships


def _dump_lines(bundle: dict[str, Any]) -> Iterator[str]:
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    yield '{"format":' + dumps(bundle.get("format", 1))
    if "meta" in bundle:
        yield ',"meta":' + dumps(bundle["meta"])
    for section in SECTIONS:
        yield f',"{section}":['
        entities = bundle[section]
        for start in range(0, len(entities), 5000):
            chunk = ",".join(dumps(e) for e in entities[start : start + 5000])
            yield ("," if start else "") + chunk
        yield "]"
    yield "}\n"


def write(size: str, seed: int, out_dir: Path) -> None:
    """Write `out_dir/bundle.json` and `out_dir/expected.json` for (size, seed)."""
    write_generated(*generate(size, seed), out_dir)


def write_generated(bundle: dict[str, Any], expected: dict[str, Any], out_dir: Path) -> None:
    """Write a generated (bundle, expected) pair into `out_dir`, the bundle streamed section by section,
    with `events.csv`, an event log with planted violations whose findings join `expected` (events.md)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    from events.synth import write_for_synth

    if "as_of" in expected:  # a bundle written without its expected findings gets no event log either
        write_for_synth(bundle, expected, out_dir, date.fromisoformat(expected["as_of"]))
    with (out_dir / "bundle.json").open("w", encoding="utf-8", newline="\n") as f:
        f.writelines(_dump_lines(bundle))
    with (out_dir / "expected.json").open("w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(expected, indent=2, ensure_ascii=False) + "\n")  # as `tomgraph check` prints it


# --- the spec, re-derived in Python: the generator's own cross-check ---------------------------


def derive_findings(bundle: dict[str, Any], as_of: date = AS_OF) -> list[dict[str, Any]]:
    """Every finding of gap-checks.md for `bundle`, as (check, severity, subjects, accountable).

    A plain reading of the spec over the bundle's dicts, used to prove that a generated bundle
    produces exactly its planted findings; it is not the product's check engine (queries/).
    """
    from queries.cycles import strongly_connected_components

    get: dict[str, Entity] = {e["id"]: e for s in SECTIONS for e in bundle.get(s, ())}
    models, workflows = bundle["models"], bundle["workflows"]
    roles, domains, vendors = bundle["roles"], bundle["data_domains"], bundle["vendors"]
    use_cases, controls, access = bundle["use_cases"], bundle["controls"], bundle["access"]
    found: list[tuple[str, str, list[str], str | None]] = []

    def add(check: str, subjects: list[str], accountable: str | None, tier: str | None = None) -> None:
        severity = "critical" if check in RAISED_FOR_HIGH_RISK and tier == "high" else DEFAULT_SEVERITY[check]
        found.append((check, severity, subjects, accountable))

    held = {r for p in bundle["people"] for r in p.get("holds", ())}
    holdings = [set(p.get("holds", ())) for p in bundle["people"] if len(p.get("holds", ())) > 1]
    live = [u for u in use_cases if u["stage"] in LIVE_USE_CASE]
    active_wf = [w for w in workflows if w["stage"] in ACTIVE_WORKFLOW]
    monitored = {m for c in controls if c["kind"] == "monitoring" for m in c.get("applies_to", ())}
    in_business = {m for u in live for m in u.get("models", ())} | {m for w in active_wf for m in w.get("uses", ())}
    granted = {(a["consumer"], a["data_domain"]) for a in access if a["status"] == "granted"}
    cutoff = as_of - timedelta(days=REVIEW_MAX_AGE_DAYS)

    decision: set[str] = set()
    owners_of_active: set[str] = set()
    for m in models:
        mid, stage, tier, owner = m["id"], m["stage"], m.get("risk_tier"), m.get("owner")
        active = stage in ACTIVE_MODEL
        if active:
            for f in ("change_approvers", "deployment_approvers", "shutdown_authority"):
                decision.update(m.get(f, ()))
            if owner:
                decision.add(owner)
                owners_of_active.add(owner)
            else:
                add("model-without-owner", [mid], None)
            if not m.get("change_approvers"):
                add("model-without-change-approver", [mid], owner, tier)
            developers, approvers = set(m.get("developers", ())), set(m.get("change_approvers", ()))
            conflict = developers & approvers
            for holding in holdings:
                if holding & developers and holding & approvers:
                    conflict |= (holding & developers) | (holding & approvers)
            if conflict:
                add("self-approved-model", [mid, *sorted(conflict)], owner, tier)
            if tier == "high" and m.get("human_oversight", "none") == "none":
                add("high-risk-without-human-oversight", [mid], owner)
        if stage == "production":
            if not m.get("shutdown_authority"):
                add("no-shutdown-authority", [mid], owner)
            if tier == "high" and ("last_reviewed" not in m or date.fromisoformat(m["last_reviewed"]) < cutoff):
                add("overdue-model-review", [mid], owner)
            if mid not in monitored:
                add("unmonitored-production-model", [mid], owner)
            if mid not in in_business:
                add("model-without-business-case", [mid], owner)
        if stage in TIERED_MODEL:
            if not tier:
                add("missing-risk-tier", [mid], owner)
            if tier == "unacceptable":
                add("prohibited-model-active", [mid], owner)

    for d in domains:
        owners = d.get("owners", [])
        decision.update(owners)
        if not owners:
            add("orphan-data-domain", [d["id"]], None)
        elif len(set(owners)) >= 2:
            add("contested-data-ownership", [d["id"]], None)
    decision.update(a["approver"] for a in access if a.get("approver"))
    decision.update(c["operated_by"] for c in controls if c.get("operated_by"))
    for u in live:
        decision.update(u.get(f) for f in ("sponsor", "budget_owner") if u.get(f))
        decision.update(u.get("approved_by", ()))
        if not u.get("kpis"):
            add("use-case-without-kpi", [u["id"]], u.get("sponsor"))
        if not u.get("sponsor"):
            add("use-case-without-sponsor", [u["id"]], None)

    for r in roles:
        if r["id"] in decision and r["id"] not in held:
            add("vacant-decision-role", [r["id"]], r.get("reports_to"))
        if r["id"] in owners_of_active and not _reaches_executive(r, get):
            add("broken-escalation-chain", [r["id"]], r["id"])

    for c in controls:
        if not c.get("operated_by"):
            add("control-without-operator", [c["id"]], None)

    for w in workflows:
        if w["stage"] == "production":
            for mid in dict.fromkeys(w.get("uses", ())):
                if get[mid]["stage"] in NOT_READY:
                    add("experiment-in-production", [w["id"], mid], w.get("owner"))
        if w["stage"] in ACTIVE_WORKFLOW and not w.get("owner"):
            add("workflow-without-owner", [w["id"]], None)

    consumers = [(m, m.get("consumes", ())) for m in models if m["stage"] in ACTIVE_MODEL]
    consumers += [(w, w.get("reads", ())) for w in active_wf]
    for c, needed in consumers:
        for did in dict.fromkeys(needed):
            owners = get[did].get("owners", [])
            if (c["id"], did) not in granted and c.get("owner") not in owners:
                add("blocked-data-dependency", [c["id"], did], owners[0] if len(set(owners)) == 1 else None)

    waits = [
        (get[a["consumer"]].get("owner"), b)
        for a in access
        if a["status"] in ("pending", "denied")
        for b in get[a["data_domain"]].get("owners", ())
    ]
    for group in strongly_connected_components((a, b) for a, b in waits if a and a != b):
        if len(group) >= 2:
            add("data-ownership-deadlock", sorted(group), None)

    active_ids = {m["id"] for m in models if m["stage"] in ACTIVE_MODEL}
    supplies_active = {m["vendor"] for m in models if m.get("vendor") and m["id"] in active_ids}
    base = [m for m in models if m["stage"] == "production" and m.get("risk_tier") == "high"]
    for v in vendors:
        if not v.get("owner"):
            add("vendor-without-owner", [v["id"]], None)
        if v.get("contract_end") and date.fromisoformat(v["contract_end"]) < as_of and v["id"] in supplies_active:
            add("expired-vendor-contract", [v["id"]], v.get("owner"))
        share = sum(1 for m in base if m.get("vendor") == v["id"])
        if len(base) >= VENDOR_MIN_MODELS and not v.get("exit_plan") and share >= VENDOR_SHARE_MAX * len(base):
            add("vendor-concentration", [v["id"]], v.get("owner"))

    for k in bundle["kpis"]:
        if not k.get("owner"):
            add("kpi-without-owner", [k["id"]], None)
    _derive_11(bundle, get, as_of, add)
    _derive_governance(bundle, as_of, add)
    return _sorted_findings(found)


def _derive_11(bundle: dict[str, Any], get: dict[str, Entity], as_of: date, add: Callable[..., None]) -> None:
    """The catalog 1.1 checks on the TOM, incidents, systems and initiatives, read plainly from gap-checks.md."""
    meta = bundle.get("meta") or {}
    owner = meta.get("owner")
    if owner is None or not get[owner].get("executive"):
        add("tom-without-owner", [owner] if owner else [], None)
    reviewed = meta.get("reviewed")
    if reviewed is None or date.fromisoformat(reviewed) < as_of - timedelta(days=TOM_REVIEW_MAX_AGE_DAYS):
        add("tom-review-overdue", [owner] if owner else [], None)
    for i in bundle.get("incidents", ()):
        if i.get("serious"):
            deadline = date.fromisoformat(i["aware"]) + timedelta(days=REPORT_DAYS.get(i.get("category", ""), 15))
            reported = i.get("reported")
            if (reported and date.fromisoformat(reported) > deadline) or (not reported and as_of > deadline):
                add("late-incident-report", [i["id"]], i.get("owner"))
        closed = i.get("closed")
        if (closed is None or date.fromisoformat(closed) > as_of) and not i.get("owner"):
            add("incident-without-owner", [i["id"]], None)
    for s in bundle.get("systems", ()):
        if s["stage"] in ("build", "production") and not s.get("owner"):
            add("system-without-owner", [s["id"]], None)
    for n in bundle.get("initiatives", ()):
        if n["status"] in CLOSED_INITIATIVE:
            continue
        if not n.get("accountable"):
            add("initiative-without-accountable", [n["id"]], owner)
        if n.get("due") and date.fromisoformat(n["due"]) < as_of:
            add("overdue-initiative", [n["id"]], owner)


class _Authority:
    """Who effectively holds a decision right on a model (gap-checks.md 1.1, "Terms"), read plainly
    from the bundle: a person holding a role that has the right, or named (or holding a role
    named) by a delegation in force from such a role, for that right, whose `models` are empty
    or include the model. Delegations are followed one step."""

    def __init__(self, bundle: dict[str, Any], as_of: date) -> None:
        self.people = {p["id"]: p for p in bundle["people"]}
        self.roles = {r["id"]: r for r in bundle["roles"]}
        self.holders: dict[str, set[str]] = {}
        for p in bundle["people"]:
            for r in p.get("holds", ()):
                self.holders.setdefault(r, set()).add(p["id"])
        self.delegations: dict[tuple[str, str], list[Entity]] = {}
        for d in bundle.get("delegations", ()):
            starts, ends = d.get("valid_from"), d.get("valid_to")
            if (starts is None or date.fromisoformat(starts) <= as_of) and (
                ends is None or as_of <= date.fromisoformat(ends)
            ):
                self.delegations.setdefault((d["from"], d["right"]), []).append(d)

    def ways(self, model: Entity, right: str) -> set[tuple[str, str, str | None]]:
        """(person, giving role, delegation id or None) for every way `right` on `model` reaches a person."""
        out: set[tuple[str, str, str | None]] = set()
        for giver in model.get(DECISION_RIGHTS[right][1], ()):
            out.update((p, giver, None) for p in self.holders.get(giver, ()))
            for d in self.delegations.get((giver, right), ()):
                if d.get("models") and model["id"] not in d["models"]:
                    continue
                to = d["to"]
                people = {to} if to in self.people else self.holders.get(to, set())
                out.update((p, giver, d["id"]) for p in people)
        return out

    def only_delegated(self, model: Entity) -> dict[str, list[str]]:
        """Developers of `model` who may approve its changes only through delegations: person -> delegation ids."""
        by_person: dict[str, list[str | None]] = {}
        for person, _, delegation in self.ways(model, "change_approval"):
            by_person.setdefault(person, []).append(delegation)
        developers = set(model.get("developers", ()))
        return {
            person: sorted({d for d in ds if d})
            for person, ds in by_person.items()
            if None not in ds and developers & set(self.people[person].get("holds", ()))
        }

    def sole_stopper(self, model: Entity) -> str | None:
        """The one person who can stop `model`, when no role giving them the right has a deputy held by someone else."""
        ways = self.ways(model, "shutdown")
        people = {p for p, _, _ in ways}
        if len(people) != 1:
            return None
        (person,) = people
        for giver in {g for _, g, _ in ways}:
            deputy = self.roles[giver].get("deputy")
            if deputy and self.holders.get(deputy, set()) - {person}:
                return None
        return person


def _policy_gaps(model: Entity, policy: Entity, bundle_index: dict[str, Any], as_of: date) -> dict[str, Any]:
    """What `model` lacks of its tier's `policy` on `as_of`: {check id: missing list, or True}."""
    gaps: dict[str, Any] = {}
    mid, stage = model["id"], model["stage"]
    if stage not in ACTIVE_MODEL:
        return gaps
    rights = [r for r in policy.get("require_rights", ()) if not model.get(r)]
    if rights:
        gaps["policy-missing-right"] = rights
    needed = policy.get("human_oversight")
    if needed and OVERSIGHT_LEVEL.get(model.get("human_oversight", ""), 0) < OVERSIGHT_LEVEL[needed]:
        gaps["policy-weak-oversight"] = True
    if stage != "production":
        return gaps
    kinds = bundle_index["controls"].get(mid, set())
    controls = [k for k in policy.get("require_controls", ()) if k not in kinds]
    if controls:
        gaps["policy-missing-control"] = controls
    max_age = policy.get("review_max_age_days")
    reviewed = model.get("last_reviewed")
    if max_age is not None and (reviewed is None or date.fromisoformat(reviewed) < as_of - timedelta(days=max_age)):
        gaps["policy-review-overdue"] = True
    held = bundle_index["evidence"].get(mid, set())
    evidence = [k for k in policy.get("require_evidence", ()) if k not in held]
    if evidence:
        gaps["policy-missing-evidence"] = evidence
    return gaps


def _policy_index(bundle: dict[str, Any], as_of: date) -> dict[str, Any]:
    """Policies by tier, control kinds by model, and kinds of evidence in force by model."""
    controls: dict[str, set[str]] = {}
    for c in bundle["controls"]:
        for mid in c.get("applies_to", ()):
            controls.setdefault(mid, set()).add(c["kind"])
    evidence: dict[str, set[str]] = {}
    for e in bundle.get("evidence", ()):
        expires = e.get("expires")
        if date.fromisoformat(e["issued"]) <= as_of and (expires is None or as_of < date.fromisoformat(expires)):
            for target in e["about"]:
                evidence.setdefault(target, set()).add(e["kind"])
    policies = {p["risk_tier"]: p for p in bundle.get("policies", ())}
    return {"controls": controls, "evidence": evidence, "policies": policies}


def _derive_governance(bundle: dict[str, Any], as_of: date, add: Callable[..., None]) -> None:
    """The catalog 1.1 checks on policies and delegations, read plainly from gap-checks.md."""
    index = _policy_index(bundle, as_of)
    authority = _Authority(bundle, as_of)
    alone: dict[str, int] = {}
    for m in bundle["models"]:
        mid, owner, tier = m["id"], m.get("owner"), m.get("risk_tier")
        policy = index["policies"].get(tier)
        if policy is not None:
            for check in _policy_gaps(m, policy, index, as_of):
                add(check, [mid], owner)
        if m["stage"] in ACTIVE_MODEL:
            for developer in authority.only_delegated(m):
                add("delegated-self-approval", [mid, developer], owner, tier)
        if m["stage"] == "production" and tier == "high":
            sole = authority.sole_stopper(m)
            if sole:
                alone[sole] = alone.get(sole, 0) + 1
    for person, n in alone.items():
        if n >= SPOF_MIN_MODELS:
            add("single-point-of-shutdown", [person], None)


def _reaches_executive(role: Entity, get: dict[str, Entity]) -> bool:
    seen: set[str] = set()
    current: Entity | None = role
    while current is not None:
        if current.get("executive"):
            return True
        if current["id"] in seen:
            return False
        seen.add(current["id"])
        nxt = current.get("escalates_to")
        current = get[nxt] if nxt else None
    return False


# --- what each finding's message says, read from the bundle --------------------------------------

MODEL_RIGHTS: tuple[tuple[str, str], ...] = (
    ("change_approvers", "model-change-approver"),
    ("deployment_approvers", "model-deployment-approver"),
    ("owner", "model-owner"),
    ("shutdown_authority", "model-shutdown-authority"),
)
USE_CASE_RIGHTS: tuple[tuple[str, str], ...] = (
    ("approved_by", "use-case-approver"),
    ("budget_owner", "use-case-budget-owner"),
    ("sponsor", "use-case-sponsor"),
)
"""vacant-decision-role's kinds of right on one entity, in the order the message lists them."""


class _MessageValues:
    """The variant and fields of each check's message template, for a finding's subjects in a bundle.

    A plain reading of the spec's entities, like `derive_findings`: names, stages and dates as the
    bundle has them, lists in the order the check's message gives (by id).
    """

    def __init__(self, bundle: dict[str, Any], as_of: date, catalog: Catalog) -> None:
        self.bundle = bundle
        self.as_of = as_of
        self.catalog = catalog
        self.get: dict[str, Entity] = {e["id"]: e for s in SECTIONS for e in bundle.get(s, ())}
        self.model_ids = {m["id"] for m in bundle["models"]}
        self._index: dict[str, Any] | None = None
        self._authority: _Authority | None = None
        self._stops: dict[str, list[str]] | None = None

    @property
    def index(self) -> dict[str, Any]:
        if self._index is None:
            self._index = _policy_index(self.bundle, self.as_of)
        return self._index

    @property
    def authority(self) -> _Authority:
        if self._authority is None:
            self._authority = _Authority(self.bundle, self.as_of)
        return self._authority

    def stops(self, person: str) -> list[str]:
        """Ids of the production high-risk models `person` alone can stop with no deputy, sorted."""
        if self._stops is None:
            self._stops = {}
            for m in self.bundle["models"]:
                if m["stage"] == "production" and m.get("risk_tier") == "high":
                    sole = self.authority.sole_stopper(m)
                    if sole:
                        self._stops.setdefault(sole, []).append(m["id"])
        return sorted(self._stops.get(person, ()))

    def name(self, entity_id: str) -> str:
        return str(self.get[entity_id]["name"])

    def of(self, check: str, subjects: list[str]) -> tuple[str | None, dict[str, object]]:
        if check.startswith("tom-"):
            return self.tom(check, subjects)
        first = self.get[subjects[0]]
        name, stage = first.get("name"), first.get("stage")
        simple: dict[str, dict[str, object]] = {
            "model-without-owner": {"model": name, "stage": stage},
            "model-without-change-approver": {"model": name},
            "no-shutdown-authority": {"model": name},
            "missing-risk-tier": {"model": name, "stage": stage},
            "prohibited-model-active": {"model": name, "stage": stage},
            "unmonitored-production-model": {"model": name},
            "model-without-business-case": {"model": name},
            "control-without-operator": {"control": name, "kind": first.get("kind")},
            "workflow-without-owner": {"workflow": name, "stage": stage},
            "orphan-data-domain": {"domain": name},
            "vendor-without-owner": {"vendor": name},
            "use-case-without-kpi": {"use_case": name, "stage": stage},
            "use-case-without-sponsor": {"use_case": name, "stage": stage},
            "kpi-without-owner": {"kpi": name},
        }
        if check in simple:
            return None, simple[check]
        if check == "high-risk-without-human-oversight":
            return ("not-recorded" if first.get("human_oversight") is None else "none"), {"model": name}
        if check == "experiment-in-production":
            model = self.get[subjects[1]]
            return None, {"workflow": name, "model": model["name"], "stage": model["stage"]}
        if check == "blocked-data-dependency":
            variant = "consumes" if subjects[0] in self.model_ids else "reads"
            return variant, {"consumer": name, "domain": self.name(subjects[1])}
        if check == "contested-data-ownership":
            owners = sorted(set(first["owners"]))
            return None, {"domain": name, "count": len(owners), "owners": [self.name(r) for r in owners]}
        if check == "data-ownership-deadlock":
            title = self.catalog.get(check).spec.title
            return None, {"title": title, "members": join_names(self.name(r) for r in subjects)}
        if check == "overdue-model-review":
            if "last_reviewed" not in first:
                return "never", {"model": name}
            days = REVIEW_MAX_AGE_DAYS
            values = {"model": name, "last_reviewed": first["last_reviewed"], "max_age_days": days}
            return "overdue", {**values, "as_of": self.as_of.isoformat()}
        if check == "expired-vendor-contract":
            supplied = sorted(
                (m["id"], m["name"])
                for m in self.bundle["models"]
                if m.get("vendor") == first["id"] and m["stage"] in ACTIVE_MODEL
            )
            return None, {"vendor": name, "contract_end": first["contract_end"], "models": [n for _, n in supplied]}
        if check == "vendor-concentration":
            base = [m for m in self.bundle["models"] if m["stage"] == "production" and m.get("risk_tier") == "high"]
            supplied_count = sum(1 for m in base if m.get("vendor") == first["id"])
            return None, {"vendor": name, "supplied": supplied_count, "total": len(base)}
        if check == "self-approved-model":
            return "finding", {"model": name, "conflicts": self.conflicts(first)}
        if check == "vacant-decision-role":
            return "finding", {"role": name, "rights": self.rights(first["id"])}
        if check == "broken-escalation-chain":
            return self.escalation(first["id"])
        if check == "system-without-owner":
            return None, {"system": name, "stage": stage}
        if check == "incident-without-owner":
            return None, {"incident": name, "incident_severity": first["severity"], "aware": first["aware"]}
        if check == "late-incident-report":
            aware = date.fromisoformat(first["aware"])
            deadline = aware + timedelta(days=REPORT_DAYS.get(first.get("category", ""), 15))
            variant = "late" if first.get("reported") else "missing"
            return variant, {"incident": name, "reported": first.get("reported"), "deadline": deadline.isoformat()}
        if check == "initiative-without-accountable":
            return None, {"initiative": name, "status": first["status"]}
        if check == "overdue-initiative":
            return None, {"initiative": name, "status": first["status"], "due": first["due"]}
        if check.startswith("policy-"):
            return self.policy(check, first)
        if check == "delegated-self-approval":
            ids = self.authority.only_delegated(first)[subjects[1]]
            values = {"person": self.name(subjects[1]), "model": name}
            return None, {**values, "delegations": [f"delegation {d}" for d in ids]}
        if check == "single-point-of-shutdown":
            models = self.stops(subjects[0])
            return None, {"person": name, "count": len(models), "models": [self.name(m) for m in models]}
        raise ValueError(f"synth: no message values for check {check!r}")

    def policy(self, check: str, model: Entity) -> tuple[str | None, dict[str, object]]:
        """The policy checks' values: what the model lacks of its tier's policy, in the policy's order."""
        policy = self.index["policies"][model["risk_tier"]]
        name = model["name"]
        if check == "policy-weak-oversight":
            has = model.get("human_oversight")
            return None, {
                "model": name,
                "oversight": "no" if has in (None, "none") else has,
                "required": policy["human_oversight"],
            }
        if check == "policy-review-overdue":
            days = policy["review_max_age_days"]
            if "last_reviewed" not in model:
                return "never", {"model": name, "max_age_days": days}
            values = {"model": name, "last_reviewed": model["last_reviewed"], "max_age_days": days}
            return "overdue", {**values, "as_of": self.as_of.isoformat()}
        missing = _policy_gaps(model, policy, self.index, self.as_of)[check]
        return None, {"model": name, "tier": model["risk_tier"], "missing": missing}

    def tom(self, check: str, subjects: list[str]) -> tuple[str | None, dict[str, object]]:
        meta = self.bundle.get("meta") or {}
        if check == "tom-without-owner":
            return ("not-executive", {"role": self.name(subjects[0])}) if subjects else ("no-owner", {})
        if "reviewed" not in meta:
            return "never", {}
        values = {"reviewed": meta["reviewed"], "max_age_days": TOM_REVIEW_MAX_AGE_DAYS}
        return "overdue", {**values, "as_of": self.as_of.isoformat()}

    def conflicts(self, model: Entity) -> list[object]:
        """Roles that develop and change-approve the model, then people holding a developer and an approver role."""
        developers, approvers = set(model.get("developers", ())), set(model.get("change_approvers", ()))
        parts: list[object] = [self.name(r) for r in sorted(developers & approvers)]
        for person in sorted(self.bundle["people"], key=lambda p: p["id"]):
            holds = set(person.get("holds", ()))
            for developer in sorted(holds & developers):
                for approver in sorted(holds & approvers):
                    if developer != approver:
                        parts.append(
                            {
                                "variant": "through-person",
                                "person": person["name"],
                                "developer": self.name(developer),
                                "approver": self.name(approver),
                            }
                        )
        return parts

    def rights(self, role: str) -> list[dict[str, object]]:
        """A vacant role's decision rights: on active models, domains, access rows, controls, live use cases."""

        def holds(entity: Entity, field_: str) -> bool:
            value = entity.get(field_)
            return role in value if isinstance(value, list) else value == role

        rights: list[dict[str, object]] = []
        for m in sorted(self.bundle["models"], key=lambda e: e["id"]):
            if m["stage"] in ACTIVE_MODEL:
                rights += [{"variant": v, "name": m["name"]} for f, v in MODEL_RIGHTS if holds(m, f)]
        for d in sorted(self.bundle["data_domains"], key=lambda e: e["id"]):
            if holds(d, "owners"):
                rights.append({"variant": "data-domain-owner", "name": d["name"]})
        for a in sorted(self.bundle["access"], key=lambda e: e["id"]):
            if holds(a, "approver"):
                rights.append({"variant": "access-approver", "id": a["id"]})
        for c in sorted(self.bundle["controls"], key=lambda e: e["id"]):
            if holds(c, "operated_by"):
                rights.append({"variant": "control-operator", "name": c["name"]})
        for u in sorted(self.bundle["use_cases"], key=lambda e: e["id"]):
            if u["stage"] in LIVE_USE_CASE:
                rights += [{"variant": v, "name": u["name"]} for f, v in USE_CASE_RIGHTS if holds(u, f)]
        return rights

    def escalation(self, role: str) -> tuple[str, dict[str, object]]:
        """Where the role's escalation chain breaks: it stops (at itself: a dead end) or loops."""
        path: list[str] = []
        node = role
        while node not in path:
            if self.get[node].get("executive"):
                raise ValueError(f"synth: the escalation chain of {role} reaches an executive")
            path.append(node)
            following = self.get[node].get("escalates_to")
            if following is None:
                return ("dead-end" if node == role else "stops"), {"role": self.name(role), "at": self.name(node)}
            node = following
        loop = path[path.index(node) :]
        return "loops", {"role": self.name(role), "at": self.name(min(loop))}
