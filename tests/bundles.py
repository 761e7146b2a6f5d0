"""Writing one bundle in each of its four forms, for tests."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook

from graph.ontology import kinds_by_section

SMALL_BUNDLE: dict[str, list[dict[str, Any]]] = {
    "units": [{"id": "u-group", "name": "Group"}, {"id": "u-uw", "name": "Underwriting", "parent": "u-group"}],
    "roles": [
        {"id": "r-ceo", "name": "Chief Executive", "executive": True, "unit": "u-group"},
        {
            "id": "r-uw-head",
            "name": "Head of Underwriting",
            "unit": "u-uw",
            "escalates_to": "r-ceo",
            "reports_to": "r-ceo",
        },
        {"id": "r-ds", "name": "Data Science Lead", "unit": "u-uw", "escalates_to": "r-uw-head"},
    ],
    "people": [
        {"id": "p-ana", "name": "Ana Ortiz", "email": "ana@example.com", "holds": ["r-uw-head"]},
        {"id": "p-bo", "name": "Bo Chen", "holds": ["r-ds", "r-ceo"], "tags": ["engineering", "lead"]},
    ],
    "data_domains": [
        {"id": "d-policy", "name": "Policy data", "classification": "confidential", "owners": ["r-uw-head"]},
    ],
    "vendors": [
        {"id": "v-acme", "name": "Acme AI", "owner": "r-uw-head", "contract_end": "2027-03-31", "exit_plan": True},
    ],
    "models": [
        {
            "id": "m-score",
            "name": "Risk score",
            "stage": "production",
            "risk_tier": "high",
            "owner": "r-uw-head",
            "developers": ["r-ds"],
            "change_approvers": ["r-uw-head"],
            "shutdown_authority": ["r-ceo"],
            "vendor": "v-acme",
            "consumes": ["d-policy"],
            "human_oversight": "in_the_loop",
            "last_reviewed": "2026-05-01",
            "description": "Prices new business.",
            "properties": {"cost_centre": "CC-12", "latency_ms": 40},
        },
    ],
    "workflows": [
        {
            "id": "w-quote",
            "name": "Quote",
            "stage": "production",
            "unit": "u-uw",
            "owner": "r-uw-head",
            "uses": ["m-score"],
            "reads": ["d-policy"],
        },
    ],
    "kpis": [{"id": "k-cycle", "name": "Quote cycle time", "owner": "r-uw-head", "target": "< 2 days"}],
    "use_cases": [
        {
            "id": "uc-quote",
            "name": "Faster quotes",
            "stage": "live",
            "sponsor": "r-uw-head",
            "models": ["m-score"],
            "workflows": ["w-quote"],
            "kpis": ["k-cycle"],
        },
    ],
    "controls": [
        {
            "id": "c-mon",
            "name": "Drift monitoring",
            "kind": "monitoring",
            "applies_to": ["m-score"],
            "operated_by": "r-ds",
        },
    ],
    "access": [
        {"id": "a-1", "data_domain": "d-policy", "consumer": "w-quote", "status": "granted"},
    ],
}


BUNDLE_11: dict[str, Any] = {
    "meta": {"owner": "r-ceo", "reviewed": "2026-03-01", "frameworks": ["eu-ai-act", "iso-42001"]},
    **{k: [dict(i) for i in v] for k, v in SMALL_BUNDLE.items()},
    "systems": [
        {
            "id": "s-core",
            "name": "Policy admin system",
            "stage": "production",
            "unit": "u-uw",
            "owner": "r-uw-head",
            "reads": ["d-policy"],
            "vendor": ["v-acme", "v-beta"],
        },
        {"id": "s-portal", "name": "Broker portal", "stage": "build", "depends_on": ["s-core", "m-score"]},
    ],
    "delegations": [
        {
            "id": "dl-1",
            "from": "r-ceo",
            "to": "p-ana",
            "right": "shutdown",
            "models": ["m-score"],
            "valid_from": "2026-01-01",
            "valid_to": "2026-12-31",
        },
        {"id": "dl-2", "from": "r-uw-head", "to": "r-ds", "right": "access_approval"},
    ],
    "policies": [
        {
            "id": "pol-high",
            "risk_tier": "high",
            "require_rights": ["owner", "change_approvers"],
            "require_controls": ["monitoring", "bias_testing"],
            "human_oversight": "in_the_loop",
            "review_max_age_days": 180,
            "approval_max_days": 10,
            "require_evidence": ["model_card", "fria"],
        },
    ],
    "evidence": [
        {
            "id": "ev-card",
            "name": "Risk score model card",
            "kind": "model_card",
            "about": ["m-score", "c-mon"],
            "issued": "2026-02-01",
            "expires": "2027-02-01",
            "owner": "r-ds",
            "uri": "https://wiki.example.com/cards/risk-score",
        },
    ],
    "incidents": [
        {
            "id": "inc-1",
            "name": "Mispriced batch",
            "models": ["m-score"],
            "severity": "high",
            "serious": True,
            "category": "widespread",
            "aware": "2026-04-02",
            "reported": "2026-04-03",
            "owner": "r-uw-head",
        },
    ],
    "initiatives": [
        {
            "id": "ini-1",
            "name": "Second supplier",
            "status": "in_progress",
            "accountable": "r-ceo",
            "due": "2026-12-31",
            "budget": "EUR 1.2M",
            "delivers": ["v-beta", "s-core"],
        },
    ],
    "assessments": [
        {"id": "as-1", "question": "gov-01", "answer": "partly", "unit": "u-uw", "date": "2026-05-05", "by": "p-ana"},
    ],
}
"""SMALL_BUNDLE with every format 1.1 field and section."""
BUNDLE_11["units"][1]["head"] = "r-uw-head"
BUNDLE_11["people"][0]["aliases"] = ["ana.ortiz", "aortiz"]
BUNDLE_11["roles"][2]["deputy"] = "r-uw-head"
BUNDLE_11["vendors"].append({"id": "v-beta", "name": "Beta Models"})
BUNDLE_11["models"][0].update(
    {
        "unit": "u-uw",
        "vendor": ["v-acme", "v-beta"],
        "depends_on": ["s-core"],
        "operator_role": "deployer",
        "first_use": "2024-09-01",
    }
)
BUNDLE_11["workflows"][0]["systems"] = ["s-core"]
BUNDLE_11["use_cases"][0]["unit"] = "u-uw"
BUNDLE_11["kpis"][0].update({"status": "at_risk", "measured": "2026-10-01"})
BUNDLE_11["controls"].append({"id": "c-audit", "name": "External audit", "kind": "audit", "operated_by": "v-beta"})


def _cell(section: str, field: str, value: Any) -> Any:
    kind = kinds_by_section()[section]
    ref = kind.reference(field)
    if isinstance(value, list):
        return ";".join(value)
    if field == "tags" or (ref is not None and ref.many):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _table(section: str, items: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    columns: list[str] = []
    for item in items:
        for key, value in item.items():
            names = [f"properties.{k}" for k in value] if key == "properties" else [key]
            columns += [n for n in names if n not in columns]
    rows = []
    for item in items:
        flat = {k: _cell(section, k, v) for k, v in item.items() if k != "properties"}
        flat.update({f"properties.{k}": v for k, v in item.get("properties", {}).items()})
        rows.append([flat.get(c, "") for c in columns])
    return columns, rows


def write_yaml(bundle: dict[str, Any], path: Path, fmt: float = 1) -> Path:
    path.write_text(yaml.safe_dump({"format": fmt, **bundle}, sort_keys=False))
    return path


def write_json(bundle: dict[str, Any], path: Path, fmt: float = 1) -> Path:
    path.write_text(json.dumps({"format": fmt, **bundle}, indent=2))
    return path


def _meta_rows(meta: dict[str, Any]) -> list[list[Any]]:
    return [[field, ";".join(v) if isinstance(v, list) else v] for field, v in meta.items()]


def write_directory(bundle: dict[str, Any], path: Path, csv_sections: set[str]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for section, items in bundle.items():
        if section == "meta" and section in csv_sections:
            with open(path / "meta.csv", "w", newline="") as f:
                csv.writer(f).writerows([["field", "value"], *_meta_rows(items)])
        elif section in csv_sections:
            columns, rows = _table(section, items)
            with open(path / f"{section}.csv", "w", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(columns)
                writer.writerows([[str(c) for c in row] for row in rows])
        else:
            (path / f"{section}.yaml").write_text(yaml.safe_dump(items, sort_keys=False))
    return path


def write_xlsx(bundle: dict[str, Any], path: Path) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for section, items in bundle.items():
        sheet = workbook.create_sheet(section)
        if section == "meta":
            for row in [["field", "value"], *_meta_rows(items)]:
                sheet.append(row)
            continue
        columns, rows = _table(section, items)
        sheet.append(columns)
        for row in rows:
            sheet.append([None if c == "" else c for c in row])
    workbook.save(path)
    return path
