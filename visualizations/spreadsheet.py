"""One guard for every cell tomgraph writes to a CSV or XLSX file (CSV/formula injection).

A spreadsheet reads a cell that starts with `=`, `+`, `-` or `@` as a formula (OWASP, "CSV
Injection": https://owasp.org/www-community/attacks/CSV_Injection), and a leading tab or carriage
return can hide such a start. Text that comes from an operating model is untrusted, so such a
cell is written with a leading `'`, which spreadsheets show as text. The start is looked at
after any leading whitespace and invisible characters (zero-width space, BOM, bidi marks), and
in its compatibility form, so that `＝` (fullwidth) or `﹦` (small) count as `=`.
"""

from __future__ import annotations

import unicodedata
from typing import Any

FORMULA_STARTS = frozenset("=+-@")
_HIDING = frozenset("\t\r\n")


def _invisible(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc", "Zs")


def needs_guard(text: str) -> bool:
    """Whether a spreadsheet could read `text` as a formula."""
    if text[:1] in _HIDING:
        return True
    for ch in text:
        if _invisible(ch):
            continue
        return unicodedata.normalize("NFKC", ch)[:1] in FORMULA_STARTS
    return False


def guard_cell(value: Any) -> Any:
    """`value` as a CSV or XLSX cell: text a spreadsheet would run as a formula gets a leading
    `'`; anything else (numbers, booleans, None, harmless text) is returned unchanged."""
    if isinstance(value, str) and needs_guard(value):
        return "'" + value
    return value
