"""Small bundles and check files written on the fly for the runner, waiver and CLI tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

CHECKED_ON = "2026-11-22"
MODEL_NAMES = ["Claims triage", "Fraud score", "Underwriting risk score"]

Bundle = Mapping[str, Sequence[Mapping[str, object]]]

RISKY_BUNDLE: dict[str, list[dict[str, object]]] = {
    "roles": [
        {"id": "r-ceo", "name": "Chief Executive", "executive": True},
        {"id": "r-uw", "name": "Head of Underwriting", "escalates_to": "r-ceo"},
        {"id": "r-ds", "name": "Data Science Lead", "escalates_to": "r-ceo"},
    ],
    "people": [{"id": "p-ana", "name": "Ana Ortiz", "holds": ["r-ceo", "r-uw", "r-ds"]}],
    "vendors": [{"id": "v-acme", "name": "Acme AI", "owner": "r-uw", "contract_end": "2026-06-30"}],
    "models": [
        {
            "id": "m-high",
            "name": "Underwriting risk score",
            "stage": "production",
            "risk_tier": "high",
            "owner": "r-uw",
            "developers": ["r-ds"],
            "change_approvers": ["r-ds"],
            "shutdown_authority": ["r-uw"],
            "human_oversight": "in_the_loop",
            "last_reviewed": "2025-11-21",
            "vendor": "v-acme",
        },
        {
            "id": "m-limited",
            "name": "Claims triage",
            "stage": "pilot",
            "risk_tier": "limited",
            "owner": "r-uw",
            "developers": ["r-ds"],
            "change_approvers": ["r-ds"],
        },
        {
            "id": "m-unapproved",
            "name": "Fraud score",
            "stage": "pilot",
            "risk_tier": "high",
            "owner": "r-uw",
            "human_oversight": "on_the_loop",
        },
    ],
    "controls": [
        {
            "id": "c-drift",
            "name": "Drift monitor",
            "kind": "monitoring",
            "applies_to": ["m-high"],
            "operated_by": "r-ds",
        },
    ],
    "use_cases": [
        {"id": "u-uw", "name": "Faster underwriting", "stage": "live", "sponsor": "r-uw", "models": ["m-high"]},
    ],
}


def write_bundle(path: Path, bundle: Bundle = RISKY_BUNDLE) -> Path:
    path.write_text(yaml.safe_dump(bundle, sort_keys=False))
    return path


def write_check(directory: Path, check_id: str, cypher: str, severity: str = "medium", **extra: object) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    spec = {
        "id": check_id,
        "revision": 1,
        "title": f"Custom check {check_id}",
        "severity": severity,
        "rationale": "A team's own rule.",
        "remediation": f"Fix what {check_id} finds.",
        **extra,
        "cypher": cypher,
    }
    path = directory / f"{check_id}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path
