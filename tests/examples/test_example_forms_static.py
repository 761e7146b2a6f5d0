"""The shipped example bundles, checked without a database.

The insurer example exists in four forms (directory of YAML and CSV, single YAML file, single
JSON file, Excel workbook) that must mean the same bundle; this reads each form with its own
minimal reader, independent of tomgraph's loader and of examples/build_forms.py, and compares.
It also checks what the bundle format promises about ids and references, using the ontology
(graph/ontology.py) for which fields are references and to which kinds, and that the expected
findings and the CI waivers name entities of the right kinds.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from graph.ontology import COMMON_FIELDS, ID_PATTERN, KINDS, SEVERITIES, FieldType, kind  # noqa: E402

EXAMPLES = REPO / "examples"
INSURER = EXAMPLES / "insurer"
DIRECTORY_BUNDLES = [INSURER, EXAMPLES / "insurer-target"]
SECTIONS = [k.section for k in KINDS if not k.singleton]
META = "meta"
BUNDLE_SUFFIXES = (".yaml", ".yml", ".json", ".csv")
AS_OF = "2026-11-23"
LOOKS_TYPED = r"-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false|yes|no|null|~"

Bundle = dict[str, list[dict[str, Any]]]

# gap-checks.md, catalog v1: default severity, and the kinds of a finding's subjects in order.
# A trailing "*" repeats the last kind (one or more).
CATALOG: dict[str, tuple[str, tuple[str, ...]]] = {
    "model-without-owner": ("high", ("models",)),
    "model-without-change-approver": ("high", ("models",)),
    "no-shutdown-authority": ("high", ("models",)),
    "self-approved-model": ("high", ("models", "roles", "*")),
    "vacant-decision-role": ("high", ("roles",)),
    "broken-escalation-chain": ("high", ("roles",)),
    "missing-risk-tier": ("high", ("models",)),
    "prohibited-model-active": ("critical", ("models",)),
    "high-risk-without-human-oversight": ("critical", ("models",)),
    "overdue-model-review": ("medium", ("models",)),
    "unmonitored-production-model": ("high", ("models",)),
    "control-without-operator": ("medium", ("controls",)),
    "experiment-in-production": ("high", ("workflows", "models")),
    "workflow-without-owner": ("medium", ("workflows",)),
    "orphan-data-domain": ("high", ("data_domains",)),
    "contested-data-ownership": ("medium", ("data_domains",)),
    "blocked-data-dependency": ("high", ("models|workflows", "data_domains")),
    "data-ownership-deadlock": ("critical", ("roles", "roles", "*")),
    "vendor-without-owner": ("medium", ("vendors",)),
    "expired-vendor-contract": ("high", ("vendors",)),
    "vendor-concentration": ("medium", ("vendors",)),
    "use-case-without-kpi": ("medium", ("use_cases",)),
    "use-case-without-sponsor": ("medium", ("use_cases",)),
    "model-without-business-case": ("medium", ("models",)),
    "kpi-without-owner": ("low", ("kpis",)),
    # catalog 1.1 additions
    "policy-missing-right": ("high", ("models",)),
    "policy-missing-control": ("high", ("models",)),
    "policy-weak-oversight": ("high", ("models",)),
    "policy-review-overdue": ("medium", ("models",)),
    "policy-missing-evidence": ("high", ("models",)),
    "delegated-self-approval": ("high", ("models", "people")),
    "single-point-of-shutdown": ("medium", ("people",)),
    "late-incident-report": ("critical", ("incidents",)),
    "incident-without-owner": ("medium", ("incidents",)),
    "system-without-owner": ("medium", ("systems",)),
    "initiative-without-accountable": ("medium", ("initiatives",)),
    "overdue-initiative": ("high", ("initiatives",)),
    "tom-without-owner": ("high", ("roles?",)),
    "tom-review-overdue": ("medium", ("roles?",)),
}
RAISED_TO_CRITICAL_FOR_HIGH_RISK = {"model-without-change-approver", "self-approved-model", "delegated-self-approval"}


def list_fields(section: str) -> set[str]:
    k = kind(section)
    return {"tags"} | {r.name for r in k.references if r.many} | {f.name for f in k.fields if f.many}


def one_or_many_fields(section: str) -> set[str]:
    return {r.name for r in kind(section).references if r.one_or_many}


def fields_of_type(section: str, field_type: FieldType) -> set[str]:
    return {f.name for f in kind(section).fields if f.type is field_type}


def normalise_value(value: Any) -> Any:
    """YAML may give a date object where JSON and CSV give its text: both mean the same."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: normalise_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise_value(v) for v in value]
    return value


def normalise(bundle: dict[str, Any]) -> Bundle:
    """Sections of entities only (the `meta` mapping is compared on its own), a single id where
    one or many may be given as a list of one, as a CSV or Excel cell reads it."""
    return {
        section: [
            {
                k: [v] if k in one_or_many_fields(section) and isinstance(v, str) else normalise_value(v)
                for k, v in item.items()
            }
            for item in items
        ]
        for section, items in bundle.items()
        if section not in ("format", META)
    }


def read_meta(form: str) -> dict[str, Any]:
    """The `meta` mapping of one form: a mapping in YAML and JSON, (field, value) rows in Excel."""
    if form == "directory":
        return normalise_value(yaml.safe_load((INSURER / "meta.yaml").read_text(encoding="utf-8")))
    if form == "yaml":
        return normalise_value(yaml.safe_load((EXAMPLES / "insurer.yaml").read_text(encoding="utf-8"))[META])
    if form == "json":
        return json.loads((EXAMPLES / "insurer.json").read_text(encoding="utf-8"))[META]
    sheet = openpyxl.load_workbook(EXAMPLES / "insurer.xlsx", read_only=True)[META]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("field", "value")
    meta: dict[str, Any] = {}
    for field, value in rows[1:]:
        meta[field] = [v.strip() for v in value.split(";")] if field in list_fields(META) else value
    return meta


def from_text_row(section: str, row: dict[str, Any]) -> dict[str, Any]:
    """A CSV row or sheet row, read as the bundle format says text cells mean."""
    item: dict[str, Any] = {}
    properties: dict[str, str] = {}
    for column, cell in row.items():
        if cell is None or str(cell).strip() == "":
            continue
        text = str(cell)
        if column.startswith("properties."):
            properties[column[len("properties.") :]] = text
        elif column in list_fields(section):
            item[column] = [part.strip() for part in text.split(";") if part.strip()]
        elif column in fields_of_type(section, FieldType.INT):
            item[column] = int(text)
        elif column in fields_of_type(section, FieldType.BOOL):
            item[column] = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}[
                text.strip().lower()
            ]
        else:
            item[column] = text
    if properties:
        item["properties"] = properties
    return item


def read_directory(directory: Path) -> Bundle:
    bundle: dict[str, Any] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix not in BUNDLE_SUFFIXES:
            continue
        section = path.stem
        if path.suffix == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as fh:
                bundle[section] = [from_text_row(section, row) for row in csv.DictReader(fh)]
        elif path.suffix == ".json":
            bundle[section] = json.loads(path.read_text(encoding="utf-8"))
        else:
            bundle[section] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return normalise({s: bundle[s] for s in SECTIONS if s in bundle})


def read_xlsx(path: Path) -> Bundle:
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    bundle: Bundle = {}
    for sheet in workbook.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        if sheet.title == META:
            continue
        header = [str(c) for c in rows[0]]
        bundle[sheet.title] = [from_text_row(sheet.title, dict(zip(header, row, strict=True))) for row in rows[1:]]
    return normalise(bundle)


FORMS = {
    "yaml": lambda: normalise(yaml.safe_load((EXAMPLES / "insurer.yaml").read_text(encoding="utf-8"))),
    "json": lambda: normalise(json.loads((EXAMPLES / "insurer.json").read_text(encoding="utf-8"))),
    "xlsx": lambda: read_xlsx(EXAMPLES / "insurer.xlsx"),
}


def by_id(bundle: Bundle) -> dict[str, tuple[str, dict[str, Any]]]:
    return {item["id"]: (section, item) for section, items in bundle.items() for item in items}


@pytest.fixture(scope="module", params=DIRECTORY_BUNDLES, ids=lambda p: p.name)
def directory_bundle(request: pytest.FixtureRequest) -> tuple[Path, Bundle]:
    return request.param, read_directory(request.param)


@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_form_of_the_insurer_holds_the_same_bundle_as_the_directory(form: str) -> None:
    directory = read_directory(INSURER)
    other = FORMS[form]()
    assert list(other) == list(directory), "sections differ"
    for section in directory:
        assert other[section] == directory[section], f"{form}: section {section} differs"
    assert read_meta(form) == read_meta("directory")


def test_the_single_file_forms_declare_format_11() -> None:
    assert yaml.safe_load((EXAMPLES / "insurer.yaml").read_text(encoding="utf-8"))["format"] == 1.1
    assert json.loads((EXAMPLES / "insurer.json").read_text(encoding="utf-8"))["format"] == 1.1


def test_the_insurer_directory_mixes_yaml_and_csv_and_has_every_section() -> None:
    suffixes = {p.suffix for p in INSURER.iterdir() if p.suffix in BUNDLE_SUFFIXES}
    assert {".yaml", ".csv"} <= suffixes
    assert set(read_directory(INSURER)) == set(SECTIONS)
    assert (INSURER / "meta.yaml").is_file()


def test_bundle_directories_hold_only_one_file_per_section(directory_bundle: tuple[Path, Bundle]) -> None:
    directory, _ = directory_bundle
    stems = [p.stem for p in directory.iterdir() if p.suffix in BUNDLE_SUFFIXES]
    assert sorted(set(stems) - {*SECTIONS, META}) == [], "a data file that is not a section is an error"
    assert len(stems) == len(set(stems)), "two files for one section"


def test_ids_are_well_formed_and_unique_across_the_bundle(directory_bundle: tuple[Path, Bundle]) -> None:
    _, bundle = directory_bundle
    ids = [item["id"] for items in bundle.values() for item in items]
    assert [i for i in ids if not re.fullmatch(ID_PATTERN, i)] == []
    assert sorted({i for i in ids if ids.count(i) > 1}) == []


def test_every_reference_resolves_to_an_entity_of_the_expected_kind(
    directory_bundle: tuple[Path, Bundle],
) -> None:
    _, bundle = directory_bundle
    index = by_id(bundle)
    problems = []
    for section, items in bundle.items():
        for ref in kind(section).references:
            for item in items:
                value = item.get(ref.name)
                if value is None:
                    continue
                targets = value if ref.many else [value]
                assert isinstance(value, list) == ref.many, f"{item['id']}.{ref.name}: list or not"
                for target in targets:
                    found = index.get(target)
                    if found is None or found[0] not in ref.targets:
                        problems.append(f"{item['id']}.{ref.name} -> {target} ({found and found[0]})")
    assert problems == []


def test_every_item_uses_only_declared_fields_with_valid_values(
    directory_bundle: tuple[Path, Bundle],
) -> None:
    _, bundle = directory_bundle
    problems = []
    for section, items in bundle.items():
        k = kind(section)
        allowed = set(COMMON_FIELDS) | set(k.field_names) | {r.name for r in k.references}
        for item in items:
            where = f"{section}/{item['id']}"
            problems += [f"{where}: unknown field {f}" for f in sorted(set(item) - allowed)]
            if k.name_required and not str(item.get("name", "")).strip():
                problems.append(f"{where}: no name")
            problems += [f"{where}: missing {f.name}" for f in k.fields if f.required and f.name not in item]
            problems += [f"{where}: missing {r.name}" for r in k.references if r.required and r.name not in item]
            for f in k.fields:
                value = item.get(f.name)
                if value is None:
                    continue
                values = value if f.many else [value]
                if f.many and not isinstance(value, list):
                    problems.append(f"{where}: {f.name} is not a list")
                if f.type is FieldType.ENUM and any(v not in f.choices for v in values):
                    problems.append(f"{where}: {f.name}={value!r}")
                if f.type is FieldType.INT and not (isinstance(value, int) and not isinstance(value, bool)):
                    problems.append(f"{where}: {f.name} is not a whole number")
                if f.type is FieldType.BOOL and not isinstance(value, bool):
                    problems.append(f"{where}: {f.name} is not a boolean")
                if f.type is FieldType.DATE:
                    dt.date.fromisoformat(value)
            tags = item.get("tags", [])
            if not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
                problems.append(f"{where}: tags")
            # CSV and Excel cells are text, and a reader may take "2400" or "true" in a cell for a
            # number or a boolean: property values that read as neither mean the same in every form.
            for key, value in item.get("properties", {}).items():
                if not isinstance(value, str) or re.fullmatch(LOOKS_TYPED, value.strip().lower()):
                    problems.append(f"{where}: properties.{key}={value!r} does not read as text in every form")
    assert problems == []


def expected_findings(name: str) -> list[dict[str, Any]]:
    return json.loads((EXAMPLES / f"{name}.expected-findings.json").read_text(encoding="utf-8"))


def subjects_have_kinds(subjects: list[str], pattern: tuple[str, ...], index: dict[str, Any]) -> bool:
    kinds = list(pattern)
    if kinds[-1] == "*":
        kinds = kinds[:-1] + [kinds[-2]] * (len(subjects) - len(kinds) + 1)
    if kinds[-1].endswith("?"):
        # optional subject: the tom- checks name the meta.owner role when there is one
        kinds = [k.rstrip("?") for k in kinds][: len(subjects)]
    if len(kinds) != len(subjects):
        return False
    return all(s in index and index[s][0] in k.split("|") for s, k in zip(subjects, kinds, strict=True))


@pytest.mark.parametrize("name", [p.name for p in DIRECTORY_BUNDLES])
def test_expected_findings_are_well_formed_sorted_and_name_the_right_kinds(name: str) -> None:
    findings = expected_findings(name)
    index = by_id(read_directory(EXAMPLES / name))
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    assert findings, "an example with no findings shows nothing"
    for f in findings:
        assert set(f) == {"check", "severity", "subjects", "accountable"}, f
        default, pattern = CATALOG[f["check"]]
        model = index[f["subjects"][0]][1] if f["subjects"] else {}
        raised = f["check"] in RAISED_TO_CRITICAL_FOR_HIGH_RISK and model.get("risk_tier") == "high"
        assert f["severity"] == ("critical" if raised else default), f
        assert subjects_have_kinds(f["subjects"], pattern, index), f
        assert f["accountable"] is None or index[f["accountable"]][0] == "roles", f
    if any(f["check"] == "data-ownership-deadlock" for f in findings):
        groups = [f["subjects"] for f in findings if f["check"] == "data-ownership-deadlock"]
        assert all(g == sorted(g) for g in groups), "a deadlock's roles are listed sorted"
    keys = [(rank[f["severity"]], f["check"], f["subjects"]) for f in findings]
    assert keys == sorted(keys), "sorted by severity, then check, then subjects"
    identities = [(f["check"], frozenset(f["subjects"])) for f in findings]
    assert len(identities) == len(set(identities)), "a finding is listed twice"


@pytest.mark.parametrize("name", [p.name for p in DIRECTORY_BUNDLES])
def test_the_readme_table_lists_exactly_the_expected_findings(name: str) -> None:
    readme = (EXAMPLES / name / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Findings on " + AS_OF, 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("| `") or len(cells) < 4:
            continue
        subjects = [s.strip().strip("`") for s in cells[2].split(",")]
        accountable = None if cells[3] == "(none)" else cells[3].strip("`")
        rows.append(
            {"check": cells[0].strip("`"), "severity": cells[1], "subjects": subjects, "accountable": accountable}
        )
    assert rows == expected_findings(name)


def test_the_sample_waivers_accept_findings_of_the_insurer_example() -> None:
    waivers = yaml.safe_load((EXAMPLES / "ci" / "waivers.yaml").read_text(encoding="utf-8"))
    index = by_id(read_directory(INSURER))
    findings = {(f["check"], frozenset(f["subjects"])) for f in expected_findings("insurer")}
    assert waivers
    for w in waivers:
        assert set(w) == {"check", "subjects", "accepted_by", "reason", "expires"}, w
        assert (w["check"], frozenset(w["subjects"])) in findings, w
        assert index[w["accepted_by"]][0] == "roles"
        assert isinstance(w["expires"], dt.date) and w["expires"].isoformat() > AS_OF
        assert w["reason"].strip()


def test_the_ci_workflow_validates_loads_and_gates_against_a_neo4j_service() -> None:
    text = (EXAMPLES / "ci" / "tom-gate.yml").read_text(encoding="utf-8")
    workflow = yaml.safe_load(text)
    job = workflow["jobs"]["gate"]
    assert job["services"]["neo4j"]["image"].startswith("neo4j:5")
    runs = [step.get("run", "") for step in job["steps"]]
    order = ["tomgraph load model/ --dry-run", "tomgraph load model/ --scenario current", "--fail-on high"]
    positions = [next(i for i, r in enumerate(runs) if command in r) for command in order]
    assert positions == sorted(positions)
    assert "--fail-on high" in runs[-1]


def test_build_forms_finds_the_written_forms_up_to_date() -> None:
    sys.path.insert(0, str(EXAMPLES))
    try:
        import build_forms
    finally:
        sys.path.remove(str(EXAMPLES))
    assert build_forms.check(INSURER) == []
