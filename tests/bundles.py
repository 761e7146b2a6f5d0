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


def write_yaml(bundle: dict[str, Any], path: Path) -> Path:
    path.write_text(yaml.safe_dump({"format": 1, **bundle}, sort_keys=False))
    return path


def write_json(bundle: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps({"format": 1, **bundle}, indent=2))
    return path


def write_directory(bundle: dict[str, Any], path: Path, csv_sections: set[str]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for section, items in bundle.items():
        if section in csv_sections:
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
        columns, rows = _table(section, items)
        sheet.append(columns)
        for row in rows:
            sheet.append([None if c == "" else c for c in row])
    workbook.save(path)
    return path
