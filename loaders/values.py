"""Values no bundle may hold, in any field of any form, found before field validation.

What is refused, and why (docs/reliability.md, "Inputs from real files"):

- NUL (U+0000) anywhere in text, keys included: Neo4j refuses it in a property name, and C
  libraries, spreadsheets and XML cut text at it. Other control characters are kept as data in
  values (a report shows them as U+FFFD), but a `properties` key may hold none: it becomes part
  of a node property name.
- Lone surrogates (U+D800 to U+DFFF alone, as a JSON `\\udc80` or a YAML escape writes them):
  not Unicode characters; they cannot be stored or sent as UTF-8.
- Numbers that are not finite (`.nan`, `.inf`, JSON `NaN`, `Infinity` or `1e999`, a NaN cell):
  JSON cannot carry them, so no view, report or API answer could show them.

Each bad value gives exactly one problem, named after the field as the user wrote it
(`properties.auc`, `tags[2]`, `name`), and that field is then not validated again.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

_NUL = "\x00"
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")

FieldPath = tuple[str | int, ...]


def field_name(path: FieldPath) -> str:
    """`properties.auc`, `tags[2]`: a field path as the user wrote it."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "item"


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored, or None."""
    if _NUL in text:
        return "contains a NUL character (U+0000), which tomgraph refuses in any text"
    if text.isascii():  # the common case, without a regex
        return None
    m = _SURROGATE.search(text)
    if m:
        return (
            f"contains a lone surrogate (U+{ord(m.group()):04X}), which is not a Unicode character; "
            "the text was damaged before it reached this file"
        )
    return None


def key_problem(key: str) -> str | None:
    """Why `key` cannot name a property, or None."""
    problem = text_problem(key)
    if problem:
        return f"the key {key!r} {problem}"
    m = _CONTROL.search(key)
    if m:
        return f"the key {key!r} contains a control character (U+{ord(m.group()):04X}); property keys may hold none"
    if is_blank(key):
        return f"the key {key!r} is blank; a property key needs a visible character"
    return None


def number_problem(value: float) -> str | None:
    if math.isfinite(value):
        return None
    return f"{value} is not a finite number (NaN or infinity); tomgraph stores only finite numbers"


def is_blank(text: str) -> bool:
    """Only whitespace and invisible characters (zero-width spaces, BOM, other format
    characters): nothing a reader could see."""
    return all(ch.isspace() or unicodedata.category(ch) in ("Cf", "Zs", "Zl", "Zp") for ch in text)


def _maybe_bad(value: Any) -> bool:
    """A quick look (most items hold ASCII text and small numbers): False when nothing in
    `value` can be bad; True sends it to the full search, which names the fields."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if _NUL in v or not v.isascii():
                return True
        elif isinstance(v, float):
            if not math.isfinite(v):
                return True
        elif isinstance(v, dict):
            stack.extend(v)
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def bad_values(data: Any, path: FieldPath = ()) -> list[tuple[FieldPath, str]]:
    """(field path, message) for each value in `data` (an item's mapping, read from any form)
    that no field may hold; a bad `properties` key is reported at `properties.KEY`."""
    if not _maybe_bad(data):
        return []
    found: list[tuple[FieldPath, str]] = []
    stack: list[tuple[FieldPath, Any]] = [(path, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                found.append((where, problem))
        elif isinstance(value, float):
            problem = number_problem(value)
            if problem:
                found.append((where, problem))
        elif isinstance(value, dict):
            in_properties = where == ("properties",)
            for key, item in value.items():
                if isinstance(key, str):
                    problem = key_problem(key) if in_properties else text_problem(key)
                    if problem:
                        found.append(((*where, key), problem if in_properties else f"the field name {problem}"))
                        continue
                stack.append(((*where, key), item))
        elif isinstance(value, list):
            stack.extend(((*where, i), item) for i, item in enumerate(value))
    found.sort(key=lambda f: field_name(f[0]))
    return found
