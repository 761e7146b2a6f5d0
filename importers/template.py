"""`tomgraph template`: an Excel workbook to fill in, generated from the ontology.

One sheet per section (bundle-format.md, Excel form) with its column headers; a drop-down list
(Excel data validation) on every enum and boolean column and on every reference column; the
reference lists come from a hidden helper sheet `_lists`, whose cells follow the id columns of
the section sheets, so a drop-down offers the ids already written. A `README` sheet explains
every field. The loader ignores `README` and every sheet whose name starts with `_`
(loaders/sources.py), so the filled-in template loads as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from graph.ontology import FieldType, Kind, kinds_by_section
from visualizations.spreadsheet import guard_cell

README_SHEET = "README"
LISTS_SHEET = "_lists"
ROWS = 1000
"""Rows of each section sheet that carry drop-downs (and that the reference lists follow)."""
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def _sections() -> list[Kind]:
    return [k for k in kinds_by_section().values() if not k.singleton]


def columns(kind: Kind) -> list[str]:
    """The template's columns for a section, in the order the bundle format lists them (for
    `meta`, the field names its rows hold)."""
    own = [*kind.field_names, *(r.name for r in kind.references)]
    return own if kind.singleton else ["id", "name", "description", *own, "tags"]


def _describe(kind: Kind, column: str) -> tuple[str, str, str]:
    """(type, required, meaning) of a column, for the README."""
    common = {
        "id": ("id", "yes", "unique across the whole bundle: letters, digits, . _ : -"),
        "name": ("string", "yes" if kind.name_required else "no", "display name"),
        "description": ("string", "no", ""),
        "tags": ("list of strings", "no", "separate items with ;"),
    }
    if column in common:
        return common[column]
    f = next((f for f in kind.fields if f.name == column), None)
    if f is not None:
        kind_text = ", ".join(f.choices) if f.type is FieldType.ENUM else f.type.value
        if f.many:
            kind_text = f"list of {kind_text} (separate with ;)"
        return kind_text, "yes" if f.required else "no", f.doc
    ref = kind.reference(column)
    assert ref is not None
    targets = " or ".join(kinds_by_section()[t].singular for t in ref.targets)
    text = f"id of {targets}" + (" (several: separate with ;)" if ref.many else "")
    return text, "yes" if ref.required else "no", ref.doc


def build_template(path: Path) -> None:
    """Write the template workbook to `path` (.xlsx)."""
    workbook = Workbook()
    readme = workbook.active
    assert isinstance(readme, Worksheet)
    readme.title = README_SHEET
    lists = workbook.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    list_ranges: dict[str, str] = {}

    def helper_list(name: str, cells: list[str]) -> str:
        if name not in list_ranges:
            col = get_column_letter(len(list_ranges) + 1)
            lists.cell(row=1, column=len(list_ranges) + 1, value=guard_cell(name))
            for i, value in enumerate(cells, start=2):
                lists[f"{col}{i}"] = value
            list_ranges[name] = f"{quote_sheetname(LISTS_SHEET)}!${col}$2:${col}${len(cells) + 1}"
        return list_ranges[name]

    _write_readme(readme)
    for kind in _sections():
        sheet = workbook.create_sheet(kind.section)
        for i, column in enumerate(columns(kind), start=1):
            cell = sheet.cell(row=1, column=i, value=guard_cell(column))
            cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
            sheet.column_dimensions[get_column_letter(i)].width = max(12, len(column) + 4)
        sheet.freeze_panes = "A2"
    meta = next((k for k in kinds_by_section().values() if k.singleton), None)
    if meta is not None:
        _write_meta(workbook.create_sheet(meta.section), meta, helper_list)
    for kind in _sections():
        sheet = workbook[kind.section]
        for i, column in enumerate(columns(kind), start=1):
            source, strict = _validation_source(kind, column, helper_list)
            if source is None:
                continue
            rule = DataValidation(type="list", formula1=source, allow_blank=True, showErrorMessage=strict)
            rule.error = f"{column}: choose a value from the list"
            rule.prompt = _describe(kind, column)[0]
            rule.showInputMessage = True
            letter = get_column_letter(i)
            rule.add(f"{letter}2:{letter}{ROWS + 1}")
            sheet.add_data_validation(rule)
    workbook.save(path)


def _write_meta(sheet: Worksheet, kind: Kind, add: Callable[[str, list[str]], str]) -> None:
    """The bundle's `meta` mapping as a two-column sheet (bundle-format.md, 1.1): one row per field."""
    _append(sheet, ["field", "value"])
    for cell in sheet[1]:
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
    for row, name in enumerate(columns(kind), start=2):
        sheet.cell(row=row, column=1, value=guard_cell(name))
        source, strict = _validation_source(kind, name, add)
        if source is not None:
            rule = DataValidation(type="list", formula1=source, allow_blank=True, showErrorMessage=strict)
            rule.add(f"B{row}")
            sheet.add_data_validation(rule)
    sheet.column_dimensions["A"].width = 16
    sheet.column_dimensions["B"].width = 40


def _validation_source(kind: Kind, column: str, add: Callable[[str, list[str]], str]) -> tuple[str | None, bool]:
    """The list formula for a column's drop-down, and whether other values are refused (single
    enum and reference values are; list-valued columns take several ids separated by `;`)."""
    f = next((f for f in kind.fields if f.name == column), None)
    if f is not None and f.type in (FieldType.ENUM, FieldType.BOOL):
        values = list(f.choices) if f.type is FieldType.ENUM else ["true", "false"]
        return add(f"{kind.section}.{column}", values), not f.many
    ref = kind.reference(column)
    if ref is None:
        return None, False
    cells = [
        f'=IF({quote_sheetname(target)}!$A${row}="","",{quote_sheetname(target)}!$A${row})'
        for target in ref.targets
        for row in range(2, ROWS + 2)
    ]
    return add(" or ".join(ref.targets), cells), not ref.many


def _write_readme(sheet: Worksheet) -> None:
    _append(sheet, ["tomgraph operating-model template (bundle format 1.1)"])
    sheet["A1"].font = Font(bold=True, size=14)
    _append(
        sheet, ["Fill one sheet per section; the first row holds the column names. Load with: tomgraph load FILE.xlsx"]
    )
    _append(sheet, ["Lists: separate items with ;  Booleans: true/false. Dates: YYYY-MM-DD. Empty cell: not given."])
    _append(sheet, ["This README and the hidden _lists sheet are ignored by the loader."])
    _append(sheet, [])
    header = ["section", "column", "type", "required", "meaning"]
    _append(sheet, header)
    for cell in sheet[sheet.max_row]:
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
    meta = [k for k in kinds_by_section().values() if k.singleton]
    for kind in [*_sections(), *meta]:
        _append(sheet, [kind.section, "", "", "", kind.doc])
        sheet.cell(row=sheet.max_row, column=1).font = _HEADER_FONT
        for column in columns(kind):
            _append(sheet, [kind.section, column, *_describe(kind, column)])
    for letter, width in zip("ABCDE", (16, 22, 48, 10, 70), strict=True):
        sheet.column_dimensions[letter].width = width


def _append(sheet: Worksheet, values: Sequence[object]) -> None:
    """A row of the workbook, every cell through the one formula guard (visualizations/spreadsheet.py)."""
    sheet.append([guard_cell(v) for v in values])
