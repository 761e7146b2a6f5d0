"""Write examples/import/raci.xlsx: a use-case registry and a RACI matrix (made-up data in the
shape such workbooks have). Run: .venv/bin/python examples/import/build_raci.py"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

REGISTRY = [
    ("Use case ID", "Use case", "Model", "Business unit", "Risk tier", "Stage"),
    ("UC-01", "Claims triage", "Claims triage model", "Claims", "High", "Live"),
    ("UC-02", "Underwriting price suggestion", "Pricing model", "Underwriting", "High", "Live"),
    ("UC-03", "Customer e-mail drafting", "E-mail assistant", "Customer Service", "Limited", "Pilot"),
    ("UC-04", "Document classification", "Document classifier", "Operations", "Minimal", "Idea"),
]
ROLES = ("Chief Risk Officer", "Head of Data Science", "Model Owner", "Business Sponsor", "Internal Audit")
RACI = [
    ("Approve model change", "A", "R", "C", "I", "I"),
    ("Approve model change (high risk)", "A", "C", "R", "I", "C"),
    ("Approve deployment to production", "A", "R", "C", "C", ""),
    ("Stop a model in production", "A", "R", "R", "I", "I"),
    ("Approve the use case", "C", "C", "R", "A", ""),
    ("Fund the use case", "", "", "C", "A", ""),
    ("Build and change models", "I", "A/R", "C", "", ""),
    ("Write the quarterly AI report", "A", "R", "", "", "C"),
]


def build(path: Path) -> None:
    workbook = Workbook()
    registry = workbook.active
    assert registry is not None
    registry.title = "Registry"
    for row in REGISTRY:
        registry.append(row)
    matrix = workbook.create_sheet("RACI")
    matrix.append(("Activity", *ROLES, "Notes"))
    for row in RACI:
        matrix.append((*row, ""))
    matrix.cell(row=2, column=len(ROLES) + 2, value="two approvers for high-risk models")
    workbook.save(path)


if __name__ == "__main__":
    build(Path(__file__).with_name("raci.xlsx"))
