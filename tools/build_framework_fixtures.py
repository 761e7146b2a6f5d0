"""Write the fixtures of every shipped framework obligation (run: python tools/build_framework_fixtures.py).

For each obligation ``<id>`` of ``queries/frameworks/<framework>.yaml`` this writes, under
``queries/frameworks/fixtures/<framework>/``, ``<id>.positive.yaml`` (a bundle in which one subject
the obligation applies to satisfies it, as of 2026-11-22) and ``<id>.negative.yaml`` (the same bundle
with one thing taken away, so that the subject fails the first ``satisfied_by`` item). The files
are data: tests/frameworks loads them into Neo4j and evaluates the obligation.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from queries.frameworks import RIGHT_ALIASES, Item, Obligation, load_frameworks  # noqa: E402

EVIDENCE = [
    "technical_documentation",
    "risk_assessment",
    "impact_assessment",
    "fria",
    "test_report",
    "monitoring_plan",
    "instructions_for_use",
]
CONTROLS = ["monitoring", "audit", "human_review", "incident_response", "bias_testing", "model_review"]
RIGHT_FIELD = {v: k for k, v in RIGHT_ALIASES.items()}


def base() -> dict[str, Any]:
    """One high-risk production model, its vendor and a serious incident, all in order."""
    return {
        "roles": [
            {"id": "r-ceo", "name": "Chief Executive", "executive": True},
            {"id": "r-own", "name": "Head of Claims", "escalates_to": "r-ceo"},
            {"id": "r-ds", "name": "Data Science Lead", "escalates_to": "r-ceo"},
            {"id": "r-ops", "name": "Model Operations Lead", "escalates_to": "r-ceo"},
        ],
        "people": [
            {"id": "p-ana", "name": "Ana Ortiz", "holds": ["r-ceo", "r-own"]},
            {"id": "p-ben", "name": "Ben Okafor", "holds": ["r-ds"]},
            {"id": "p-cai", "name": "Cai Lind", "holds": ["r-ops"]},
        ],
        "units": [{"id": "u-claims", "name": "Claims", "head": "r-own"}],
        "vendors": [{"id": "v-acme", "name": "Acme AI", "owner": "r-own", "contract_end": "2027-12-31"}],
        "data_domains": [{"id": "d-claims", "name": "Claims data", "owners": ["r-own"]}],
        "models": [
            {
                "id": "m-x",
                "name": "Claims triage",
                "stage": "production",
                "risk_tier": "high",
                "operator_role": "provider",
                "human_oversight": "in_the_loop",
                "last_reviewed": "2026-06-01",
                "first_use": "2026-01-05",
                "owner": "r-own",
                "developers": ["r-ds"],
                "change_approvers": ["r-own"],
                "deployment_approvers": ["r-own"],
                "shutdown_authority": ["r-ops"],
                "consumes": ["d-claims"],
                "unit": "u-claims",
                "vendor": "v-acme",
            }
        ],
        "controls": [
            {
                "id": f"c-{k}",
                "name": k.replace("_", " ").capitalize(),
                "kind": k,
                "applies_to": ["m-x"],
                "operated_by": "r-ops",
            }
            for k in CONTROLS
        ],
        "evidence": [
            {
                "id": f"e-{k}",
                "name": k.replace("_", " ").capitalize(),
                "kind": k,
                "issued": "2026-01-01",
                "expires": "2027-12-31",
                "about": ["m-x"],
                "owner": "r-own",
            }
            for k in EVIDENCE
        ]
        + [
            {
                "id": "e-training",
                "name": "Oversight training",
                "kind": "training_record",
                "issued": "2026-01-01",
                "expires": "2027-12-31",
                "about": ["p-cai", "p-ana"],
                "owner": "r-ops",
            }
        ],
        "incidents": [
            {
                "id": "inc-1",
                "name": "Wrong triage",
                "severity": "high",
                "serious": True,
                "category": "other",
                "aware": "2026-10-01",
                "reported": "2026-10-05",
                "owner": "r-own",
                "models": ["m-x"],
            }
        ],
    }


def positive(obligation: Obligation) -> dict[str, Any]:
    bundle = base()
    applies = obligation.applies_to
    target = {"models": bundle["models"][0], "incidents": bundle["incidents"][0], "vendors": bundle["vendors"][0]}[
        applies.kind
    ]
    for name, value in applies.where.items():
        target[name] = value[0] if isinstance(value, list) else value
    return bundle


def negative(obligation: Obligation) -> dict[str, Any]:
    bundle = copy.deepcopy(positive(obligation))
    item: Item = obligation.satisfied_by[0]
    model = bundle["models"][0]
    subject = {"models": model, "incidents": bundle["incidents"][0], "vendors": bundle["vendors"][0]}[
        obligation.applies_to.kind
    ]
    if item.right is not None:
        model.pop(RIGHT_FIELD.get(item.right, item.right))
    elif item.control is not None:
        bundle["controls"] = [c for c in bundle["controls"] if c["kind"] != item.control]
    elif item.evidence is not None:
        bundle["evidence"] = [e for e in bundle["evidence"] if e["kind"] != item.evidence]
    elif item.oversight is not None:
        model["human_oversight"] = "none"
    elif item.field is not None:
        subject.pop(item.field)
    elif item.check_absent == "prohibited-model-active":
        model["risk_tier"] = "unacceptable"
    elif item.check_absent == "late-incident-report":
        bundle["incidents"][0]["reported"] = "2026-11-01"
    elif item.check_absent == "expired-vendor-contract":
        bundle["vendors"][0]["contract_end"] = "2026-06-30"
    elif item.cypher is not None:  # the data-owner queries
        bundle["data_domains"][0].pop("owners")
    else:
        raise SystemExit(f"{obligation.id}: no way to break {item.label()}")
    return bundle


def main() -> None:
    for framework in load_frameworks().frameworks:
        out = ROOT / "queries" / "frameworks" / "fixtures" / framework.id
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("*.yaml"):
            old.unlink()
        for obligation in framework.spec.obligations:
            for kind, bundle in (("positive", positive(obligation)), ("negative", negative(obligation))):
                head = (
                    f"# {framework.id} {obligation.ref}: {obligation.title}. Checked as of 2026-11-22.\n"
                    + (
                        "# Satisfies it.\n"
                        if kind == "positive"
                        else f"# Fails it: {obligation.satisfied_by[0].label()}\n"
                    )
                    + "# Written by tools/build_framework_fixtures.py.\n"
                )
                (out / f"{obligation.id}.{kind}.yaml").write_text(head + yaml.safe_dump(bundle, sort_keys=False))


if __name__ == "__main__":
    main()
