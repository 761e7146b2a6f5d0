"""Reading the four forms of a bundle into raw items, each knowing the place it was written.

Forms (bundle-format.md): a single YAML or JSON file, a directory of per-section files (YAML,
JSON or CSV, mixed), and an `.xlsx` workbook. Nothing here validates fields; it only reads,
enforces the size limits, and turns CSV/Excel cells into the values YAML or JSON would hold.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from graph.ontology import COMMON_FIELDS, FieldType, kinds_by_section
from loaders.problems import Problem, ProblemList

SECTION_EXTENSIONS = (".yaml", ".yml", ".json", ".csv")
LIST_SEPARATOR = ";"
TRUE_WORDS = frozenset({"true", "yes", "1"})
FALSE_WORDS = frozenset({"false", "no", "0"})
FORMATS: tuple[object, ...] = (1, 1.1, "1", "1.1")
"""`format:` values read (bundle-format.md): 1 and 1.1 mean the same, 1.1 only adds."""
META_SECTION = "meta"
META_COLUMNS = ("field", "value")
"""In CSV and Excel, the `meta` mapping is a table of (field, value) rows."""


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 100 * 1024 * 1024
    max_entities: int = 500_000
    max_yaml_nodes: int = 5_000_000
    load_tx_max_rows: int = 2_000_000
    """Not a read limit: above this many rows written, a load is staged (graph/sync.py)."""


class Source:
    """A file (or sheet) that items were read from; knows how to name an item's place."""

    name: str

    def place(self, index: int) -> str:
        raise NotImplementedError

    def header_place(self) -> str:
        return self.name


@dataclass
class LinedSource(Source):
    """YAML: the line of each item is known while reading."""

    name: str
    lines: list[int] = field(default_factory=list)

    def place(self, index: int) -> str:
        return f"{self.name}:{self.lines[index]}"


@dataclass
class RowSource(Source):
    """CSV (`file:row N`) and Excel (`sheet!row N`); row 1 is the header."""

    name: str
    rows: list[int] = field(default_factory=list)
    excel: bool = False

    def place(self, index: int) -> str:
        return self.place_of_row(self.rows[index])

    def place_of_row(self, row: int) -> str:
        return f"{self.name}!row {row}" if self.excel else f"{self.name}:row {row}"

    def header_place(self) -> str:
        return self.place_of_row(1)


@dataclass
class JsonSource(Source):
    """JSON: item lines are found only when a problem must be reported (parsing stays fast)."""

    name: str
    text: str
    section: str | None  # None: the items are the top-level list (a per-section file)
    _lines: dict[tuple[str | None, int], int] | None = None

    def place(self, index: int) -> str:
        if self._lines is None:
            self._lines = _json_item_lines(self.text)
        line = self._lines.get((self.section, index))
        return f"{self.name}:{line}" if line else self.name


@dataclass
class FixedSource(Source):
    """A source holding one item whose place is known up front (the bundle's `meta` mapping)."""

    name: str
    at: str

    def place(self, index: int) -> str:
        return self.at


@dataclass
class RawItem:
    section: str
    data: Any
    source: Source
    index: int
    # fields whose CSV/Excel cell could not be converted, already reported
    bad_cells: frozenset[str] = frozenset()

    @property
    def place(self) -> str:
        return self.source.place(self.index)


@dataclass
class RawBundle:
    items: list[RawItem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=ProblemList)
    # a CSV or Excel file was not read to its end because it has more rows than the entity limit
    over_limit: bool = False
    # a file or sheet could not be read to its end (damaged): references into it cannot be judged
    unreadable: bool = False


# --- YAML ---------------------------------------------------------------------------------


_YAML_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML was built with it (the wheels are): about 10 times faster."""
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Yaml(_YAML_BASE):  # type: ignore[misc, valid-type]
    """SafeLoader that keeps item lines, reads only true/false as booleans (YAML 1.2 style,
    so an id like `no` stays a string), leaves dates as text and reports duplicate keys; keys
    brought in by a merge key (`<<: *anchor`) may be overridden, as merge keys mean."""

    duplicate_keys: list[tuple[int, str]]
    own_keys: dict[int, set[int]]

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        # Remember which keys the mapping itself wrote before merged ones join them (a parent's
        # merge may flatten this mapping before it is constructed).
        if id(node) not in self.own_keys:
            self.own_keys[id(node)] = {id(k) for k, _ in node.value if k.tag != _MERGE_TAG}
        super().flatten_mapping(node)


# Dates stay text here, so that a bad date is reported by validation with its item and field.
_Yaml.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class LineDict(dict[str, Any]):
    """A mapping read from YAML, with the 1-based line it starts on."""

    line: int = 0


def _construct_mapping(loader: _Yaml, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    own = loader.own_keys.get(id(node), set())
    out = LineDict()
    out.line = node.start_mark.line + 1
    written: set[str] = set()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (int, float, bool)):
            key = str(key)
        if not isinstance(key, str):
            raise yaml.constructor.ConstructorError(None, None, "mapping keys must be strings", key_node.start_mark)
        if id(key_node) in own:
            if key in written:
                loader.duplicate_keys.append((key_node.start_mark.line + 1, key))
            written.add(key)
        # merged pairs come first, so the mapping's own keys override them
        out[key] = loader.construct_object(value_node, deep=True)
    return out


_Yaml.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _TooManyNodes(Exception):
    def __init__(self, through_aliases: bool) -> None:
        self.through_aliases = through_aliases


class _TooDeep(Exception):
    pass


MAX_YAML_DEPTH = 1000
"""Deepest nesting read: libyaml builds nodes recursively in C, where 100,000 levels overflow
the stack and kill the process (a bundle needs about five)."""


def _count_nodes(text: str, limit: int) -> None:
    """Count the document's nodes as libyaml parses it, aliases counted as the nodes they
    repeat, and stop at `limit`: an alias bomb or a huge file is refused before any node is built.
    Raises _TooManyNodes, or the parser's error (with its line) for a syntax error."""
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = []  # [nodes so far, anchor] per open collection
    total = 0
    aliases = False
    loader = _Yaml(text)
    try:
        while True:
            event = loader.get_event()
            if event is None:
                break
            if isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
                if isinstance(event, yaml.AliasEvent):
                    n = sizes.get(event.anchor or "", 1)
                    aliases = True
                else:
                    n = 1
                    if event.anchor:
                        sizes[event.anchor] = 1
                total += n
                if stack:
                    stack[-1][0] += n
            elif isinstance(event, yaml.CollectionStartEvent):
                total += 1
                stack.append([1, event.anchor])
                if len(stack) > MAX_YAML_DEPTH:
                    raise _TooDeep()
            elif isinstance(event, yaml.CollectionEndEvent):
                n, anchor = stack.pop()
                if anchor:
                    sizes[anchor] = n
                if stack:
                    stack[-1][0] += n
            else:
                continue
            if total > limit:
                raise _TooManyNodes(aliases)
    finally:
        loader.dispose()


def yaml_size_problem(text: str, name: str, limits: Limits) -> Problem | None:
    """The problem of a YAML text (every document of it) that has more than
    `limits.max_yaml_nodes` nodes, aliases counted as what they repeat, or is nested more than
    `MAX_YAML_DEPTH` levels; None when it is within both. Counted while libyaml parses, before any
    node is built. A syntax error is raised as PyYAML's error, with its line."""
    try:
        _count_nodes(text, limits.max_yaml_nodes)
    except _TooManyNodes as e:
        how = (
            "expands to more than {:,} nodes through anchors and aliases"
            if e.through_aliases
            else "has more than {:,} nodes"
        )
        return Problem(
            name, "yaml", f"the document {how.format(limits.max_yaml_nodes)}; refused (TOMGRAPH_MAX_YAML_NODES)"
        )
    except _TooDeep:
        return Problem(name, "yaml", f"the document is nested too deeply (more than {MAX_YAML_DEPTH:,} levels)")
    return None


def parse_yaml(text: str, name: str, limits: Limits) -> tuple[Any, list[Problem]]:
    """The YAML document in `text` and its problems (syntax, duplicate keys, size), each placed
    `name:line`. Nodes are counted while libyaml parses, before any is built: more than
    `limits.max_yaml_nodes` (aliases counted as what they repeat) is refused."""
    loader = _Yaml(text)
    loader.duplicate_keys = []
    loader.own_keys = {}
    try:
        _count_nodes(text, limits.max_yaml_nodes)
        node = loader.get_single_node()
        if node is None:
            return None, []
        data = loader.construct_document(node)
    except _TooManyNodes as e:
        how = (
            "expands to more than {:,} nodes through anchors and aliases"
            if e.through_aliases
            else ("has more than {:,} nodes")
        )
        return None, [
            Problem(
                name, "yaml", f"the document {how.format(limits.max_yaml_nodes)}; refused (TOMGRAPH_MAX_YAML_NODES)"
            )
        ]
    except _TooDeep:
        return None, [Problem(name, "yaml", f"the document is nested too deeply (more than {MAX_YAML_DEPTH:,} levels)")]
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = f":{mark.line + 1}" if mark else ""
        return None, [Problem(f"{name}{line}", "yaml", str(e.problem or e.context or e).strip())]
    except yaml.YAMLError as e:
        return None, [Problem(name, "yaml", str(e).strip())]
    except RecursionError:
        return None, [Problem(name, "yaml", "the document is nested too deeply")]
    except (ValueError, TypeError) as e:
        return None, [Problem(name, "yaml", str(e))]
    finally:
        loader.dispose()
    problems = [
        Problem(f"{name}:{line}", key, "duplicate key in the same mapping") for line, key in loader.duplicate_keys
    ]
    return data, problems


# --- JSON ---------------------------------------------------------------------------------

_JSON_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[{}\[\]\n]')


def _json_item_lines(text: str) -> dict[tuple[str | None, int], int]:
    """Lines where each item starts: (section, index) in a bundle file, (None, index) in a list."""
    lines: dict[tuple[str | None, int], int] = {}
    line = 1
    depth = 0
    top_is_list = None
    last_key: str | None = None
    section: str | None = None
    index = -1
    for m in _JSON_TOKEN.finditer(text):
        tok = m.group()
        if tok == "\n":
            line += 1
        elif tok in "{[":
            if depth == 0:
                top_is_list = tok == "["
                if top_is_list:
                    section, index = None, -1
            elif depth == 1 and not top_is_list and tok == "[":
                section, index = last_key, -1
            elif depth == 1 and top_is_list and tok == "{":
                index += 1
                lines[(None, index)] = line
            elif depth == 2 and not top_is_list and tok == "{" and section is not None:
                index += 1
                lines[(section, index)] = line
            depth += 1
        elif tok in "}]":
            depth -= 1
        elif depth == 1 and not top_is_list:
            last_key = json.loads(tok)
    return lines


def parse_json(text: str, name: str) -> tuple[Any, list[Problem]]:
    try:
        return json.loads(text), []
    except json.JSONDecodeError as e:
        return None, [Problem(f"{name}:{e.lineno}", "json", e.msg)]
    except RecursionError:
        return None, [Problem(name, "json", "the document is nested too deeply")]


# --- files --------------------------------------------------------------------------------


def _read_text(path: Path, display: str, limits: Limits) -> tuple[str | None, list[Problem]]:
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        return None, [
            Problem(
                display,
                "size",
                f"the file is {size:,} bytes, over the limit of {limits.max_file_bytes:,} (TOMGRAPH_MAX_FILE_BYTES)",
            )
        ]
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        return None, [Problem(f"{display}:{line}", "encoding", f"not UTF-8 (byte 0x{raw[e.start]:02x})")]


def _section_items(data: Any, section: str, source: Source, bundle: RawBundle, where: str) -> None:
    if data is None:
        return
    if not isinstance(data, list):
        bundle.problems.append(Problem(where, section, f"expected a list of {section}, got {_type_name(data)}"))
        return
    for i, item in enumerate(data):
        bundle.items.append(RawItem(section, item, source, i))


def _type_name(value: Any) -> str:
    names: dict[type, str] = {dict: "a mapping", LineDict: "a mapping", list: "a list", str: "a string"}
    return names.get(type(value), type(value).__name__)


def read_single_file(path: Path, limits: Limits, display: str | None = None) -> RawBundle:
    """A whole bundle in one YAML or JSON file."""
    name = display or path.name
    bundle = RawBundle()
    text, problems = _read_text(path, name, limits)
    bundle.problems += problems
    if text is None:
        return bundle
    is_json = path.suffix.lower() == ".json"
    data, problems = parse_json(text, name) if is_json else parse_yaml(text, name, limits)
    bundle.problems += problems
    if data is None:
        if not problems:
            bundle.problems.append(Problem(name, "bundle", "the file is empty"))
        return bundle
    if not isinstance(data, dict):
        bundle.problems.append(Problem(name, "bundle", f"expected a mapping of sections, got {_type_name(data)}"))
        return bundle
    sections = kinds_by_section()
    for key, value in data.items():
        key_place = _key_place(name, text, key, is_json)
        if key == "format":
            if isinstance(value, bool) or value not in FORMATS:
                bundle.problems.append(
                    Problem(key_place, "format", f"unsupported format {value!r}; this tomgraph reads formats 1 and 1.1")
                )
            continue
        if key == META_SECTION:
            line = getattr(value, "line", 0)
            _meta_item(value, FixedSource(name, f"{name}:{line}" if line else key_place), bundle, key_place)
            continue
        if key not in sections:
            bundle.problems.append(Problem(key_place, key, f"unknown section (known: {', '.join(sections)})"))
            continue
        source: Source
        if is_json:
            source = JsonSource(name, text, key)
        else:
            source = LinedSource(name, [getattr(item, "line", 0) for item in value] if isinstance(value, list) else [])
        _section_items(value, key, source, bundle, key_place)
    return bundle


def _key_place(name: str, text: str, key: str, is_json: bool) -> str:
    pattern = rf'"{re.escape(key)}"\s*:' if is_json else rf"^{re.escape(key)}\s*:"
    m = re.search(pattern, text, re.MULTILINE)
    return f"{name}:{text.count(chr(10), 0, m.start()) + 1}" if m else name


def read_section_file(path: Path, section: str, limits: Limits) -> RawBundle:
    """One section of a directory bundle: a YAML/JSON list of items, or a CSV table."""
    name = path.name
    bundle = RawBundle()
    text, problems = _read_text(path, name, limits)
    bundle.problems += problems
    if text is None:
        return bundle
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(text, name, section, bundle, limits)
    is_json = suffix == ".json"
    data, problems = parse_json(text, name) if is_json else parse_yaml(text, name, limits)
    bundle.problems += problems
    if section == META_SECTION:
        line = getattr(data, "line", 0) or 1
        _meta_item(data, FixedSource(name, f"{name}:{line}"), bundle, name)
        return bundle
    source: Source
    if is_json:
        source = JsonSource(name, text, None)
    else:
        source = LinedSource(name, [getattr(item, "line", 0) for item in data] if isinstance(data, list) else [])
    _section_items(data, section, source, bundle, name)
    return bundle


def read_directory(path: Path, limits: Limits) -> RawBundle:
    bundle = RawBundle()
    sections = kinds_by_section()
    seen: dict[str, Path] = {}
    for file in sorted(p for p in path.iterdir() if p.is_file()):
        if file.suffix.lower() not in SECTION_EXTENSIONS:
            continue
        section = file.stem
        if section not in sections:
            bundle.problems.append(
                Problem(file.name, "file", f"no section is called {section!r} (known: {', '.join(sections)})")
            )
            continue
        if section in seen:
            bundle.problems.append(
                Problem(
                    file.name, "file", f"section {section!r} is also in {seen[section].name}; keep one file per section"
                )
            )
            continue
        seen[section] = file
        part = read_section_file(file, section, limits)
        bundle.items += part.items
        bundle.problems += part.problems
        bundle.over_limit |= part.over_limit
        bundle.unreadable |= part.unreadable
    if not seen and not bundle.problems:
        bundle.problems.append(Problem(path.name or str(path), "bundle", "the directory holds no section files"))
    return bundle


# --- CSV and Excel cells ------------------------------------------------------------------


def _list_fields(section: str) -> set[str]:
    kind = kinds_by_section()[section]
    return {"tags"} | {r.name for r in kind.references if r.many} | {f.name for f in kind.fields if f.many}


def _bool_fields(section: str) -> set[str]:
    return {f.name for f in kinds_by_section()[section].fields if f.type is FieldType.BOOL}


def _int_fields(section: str) -> set[str]:
    return {f.name for f in kinds_by_section()[section].fields if f.type is FieldType.INT}


def _infer_scalar(text: str) -> str | int | float | bool:
    """A `properties.KEY` cell: numbers and true/false as such, anything else as text."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if re.fullmatch(r"-?(0|[1-9]\d{0,17})", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    return text


class _CellError(ValueError):
    pass


@dataclass(frozen=True)
class CellProblem:
    """An Excel cell that has no value tomgraph can take (a formula without a stored result, an
    error such as `#REF!`); reported as `sheet!row N: column: message`."""

    message: str


def _convert_cell(section: str, column: str, value: Any, typed: bool = False) -> Any:
    """A CSV/Excel cell as YAML would hold it; None means "not given".

    CSV cells are all text (`typed` False): a `properties.KEY` cell reads as a number or boolean
    when it is written like one. Excel cells carry their own type (`typed` True): a text cell,
    including one formatted as Text that holds digits, stays text."""
    if isinstance(value, CellProblem):
        raise _CellError(value.message)
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if column.startswith("properties."):
        if isinstance(value, str):
            return value.strip() if typed else _infer_scalar(value.strip())
        return value
    if column in _list_fields(section):
        text = value if isinstance(value, str) else str(value)
        return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]
    if column in _bool_fields(section):
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise _CellError(f"{value!r} is not a boolean (use true/false, yes/no or 1/0)")
    if column in _int_fields(section):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        if re.fullmatch(r"-?\d{1,18}", text):
            return int(text)
        raise _CellError(f"{value!r} is not a whole number")
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _rows_to_items(
    header: list[str],
    rows: Iterator[tuple[int, list[Any]]],
    section: str,
    source: RowSource,
    bundle: RawBundle,
    max_rows: int,
    typed: bool = False,
) -> None:
    """Items from a table whose first row names the columns; every problem of every row is
    reported in one pass (a row is never skipped because of one bad cell or column)."""
    kind = kinds_by_section()[section]
    allowed = {*COMMON_FIELDS, *kind.field_names, *(r.name for r in kind.references)} - {"properties"}
    columns: list[str | None] = []
    seen: set[str] = set()
    for number, cell in enumerate(header, start=1):
        if isinstance(cell, CellProblem):
            bundle.problems.append(Problem(source.header_place(), f"column {number}", cell.message))
            columns.append(None)
            continue
        col = cell.strip() if isinstance(cell, str) else ("" if cell is None else str(cell))
        if col in seen:
            bundle.problems.append(Problem(source.header_place(), col, "duplicate column"))
            columns.append(None)
            continue
        seen.add(col)
        if col and col not in allowed and not (col.startswith("properties.") and len(col) > len("properties.")):
            # Reported once here rather than on every row.
            bundle.problems.append(Problem(source.header_place(), col, "unknown field"))
            columns.append(None)
            continue
        columns.append(col or None)
    width = len(columns)
    while columns and columns[-1] is None:
        columns.pop()
    for row_number, cells in rows:
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        if len(source.rows) >= max_rows:
            # Stop reading here: a file of millions of tiny rows must not fill memory first.
            bundle.problems.append(
                Problem(
                    source.place_of_row(row_number),
                    "entities",
                    f"more than {max_rows:,} rows, over the limit of entities in a bundle; "
                    "refused (TOMGRAPH_MAX_ENTITIES)",
                )
            )
            bundle.over_limit = True
            break
        if len(cells) > width and any(c is not None and str(c).strip() for c in cells[width:]):
            # Reported, and the row's named columns are still read, so its other problems show now.
            bundle.problems.append(
                Problem(
                    source.place_of_row(row_number),
                    "row",
                    f"{len(cells)} cells but only {width} columns; the cells beyond them were not read",
                )
            )
        item: dict[str, Any] = {}
        bad: set[str] = set()
        for column, cell in zip(columns, cells, strict=False):
            if column is None:
                continue
            try:
                value = _convert_cell(section, column, cell, typed)
            except _CellError as e:
                bundle.problems.append(Problem(source.place_of_row(row_number), column, str(e)))
                bad.add(column)
                continue
            if value is None:
                continue
            if column.startswith("properties."):
                item.setdefault("properties", {})[column.removeprefix("properties.")] = value
            else:
                item[column] = value
        source.rows.append(row_number)
        bundle.items.append(RawItem(section, item, source, len(source.rows) - 1, frozenset(bad)))


def _meta_item(data: Any, source: Source, bundle: RawBundle, where: str) -> None:
    """The bundle's `meta` mapping as one raw item (validated like a section's item)."""
    if data is None:
        return
    if not isinstance(data, dict):
        bundle.problems.append(Problem(where, META_SECTION, f"expected a mapping, got {_type_name(data)}"))
        return
    bundle.items.append(RawItem(META_SECTION, data, source, 0))


def _meta_from_rows(
    header: list[Any], rows: Iterator[tuple[int, list[Any]]], source: RowSource, bundle: RawBundle
) -> None:
    """`meta` as a CSV file or Excel sheet: the columns `field` and `value`, one row per field."""
    columns = [c.strip() if isinstance(c, str) else c for c in header]
    while columns and columns[-1] in (None, ""):
        columns.pop()
    if tuple(columns) != META_COLUMNS:
        bundle.problems.append(
            Problem(source.header_place(), META_SECTION, "the meta table has exactly the two columns field and value")
        )
        return
    item: dict[str, Any] = {}
    bad: set[str] = set()
    first_row = 0
    for row_number, cells in rows:
        cells = [*cells, None, None][:2]
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        first_row = first_row or row_number
        field = str(cells[0]).strip() if cells[0] is not None else ""
        place = source.place_of_row(row_number)
        if not field:
            bundle.problems.append(Problem(place, "field", "a meta row needs a field name"))
            continue
        if field in item or field in bad:
            bundle.problems.append(Problem(place, field, "duplicate field"))
            continue
        try:
            value = _convert_cell(META_SECTION, field, cells[1])
        except _CellError as e:
            bundle.problems.append(Problem(place, field, str(e)))
            bad.add(field)
            continue
        if value is not None:
            item[field] = value
    source.rows.append(first_row or 2)
    bundle.items.append(RawItem(META_SECTION, item, source, 0, frozenset(bad)))


def _read_csv(text: str, name: str, section: str, bundle: RawBundle, limits: Limits) -> RawBundle:
    source = RowSource(name)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as e:
        bundle.problems.append(Problem(source.place_of_row(1), "csv", str(e)))
        return bundle
    if header is None:
        return bundle

    def rows() -> Iterator[tuple[int, list[Any]]]:
        # Lazily, so that reading stops at the entity limit without holding every row.
        record = 1
        while True:
            record += 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                bundle.problems.append(Problem(source.place_of_row(record), "csv", f"malformed row: {e}"))
                return
            yield record, list(cells)

    if section == META_SECTION:
        _meta_from_rows(list(header), rows(), source, bundle)
        return bundle
    _rows_to_items(list(header), rows(), section, source, bundle, limits.max_entities)
    return bundle


def read_workbook(path: Path, limits: Limits) -> RawBundle:
    """An `.xlsx` workbook: one sheet per section, the first row holding column names.

    Every row the sheet holds is read, whatever its `<dimension>` claims. A cell's own type
    counts (text stays text, also digits in a cell formatted as Text). A formula counts by the
    result Excel stored with it; a formula with no stored result (as scripts write them), or a
    cell showing an error (`#REF!`), is a problem of its row and column. A merged range gives
    its value to every cell it covers, as Excel shows it.
    """
    from openpyxl import load_workbook  # heavy import, only for workbooks

    bundle = RawBundle()
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        bundle.problems.append(
            Problem(path.name, "size", f"the file is {size:,} bytes, over the limit of {limits.max_file_bytes:,}")
        )
        return bundle
    problem = _zip_bomb_problem(path, limits)
    if problem:
        bundle.problems.append(problem)
        return bundle
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many types for a damaged workbook
        bundle.problems.append(Problem(path.name, "xlsx", f"not a readable .xlsx workbook ({type(e).__name__}: {e})"))
        return bundle
    sections = kinds_by_section()
    try:
        text_styles = _text_styles(workbook)
        for sheet in workbook.worksheets:
            if is_helper_sheet(sheet.title):
                continue
            if sheet.title not in sections:
                bundle.problems.append(
                    Problem(
                        f"{sheet.title}!row 1",
                        "sheet",
                        f"no section is called {sheet.title!r} (known: {', '.join(sections)})",
                    )
                )
                continue
            try:
                merged = _merged_ranges(workbook, sheet)
                rows = _sheet_rows(workbook, sheet, text_styles, merged)
                first = next(rows, None)
                if first is None:
                    continue
                header = first[1] if first[0] == 1 else []
                rest = rows if first[0] == 1 else itertools.chain([first], rows)
                if sheet.title == META_SECTION:
                    _meta_from_rows(list(header), rest, RowSource(sheet.title, excel=True), bundle)
                    continue
                _rows_to_items(
                    header,
                    rest,
                    sheet.title,
                    RowSource(sheet.title, excel=True),
                    bundle,
                    limits.max_entities,
                    typed=True,
                )
            except Exception as e:  # a damaged sheet: say so, and read the others
                bundle.unreadable = True
                bundle.problems.append(
                    Problem(f"{sheet.title}!row 1", "xlsx", f"the sheet cannot be read ({type(e).__name__}: {e})")
                )
    finally:
        workbook.close()
    return bundle


_TEXT_FORMAT_ID = 49  # Excel's built-in number format "@" (Text)


def _text_styles(workbook: Any) -> frozenset[int]:
    """Ids of the cell styles whose number format is Text (`@`)."""
    custom = list(getattr(workbook, "_number_formats", []))
    out = set()
    for style_id, style in enumerate(getattr(workbook, "_cell_styles", [])):
        fmt = style.numFmtId
        if fmt == _TEXT_FORMAT_ID or (fmt >= 164 and fmt - 164 < len(custom) and custom[fmt - 164] == "@"):
            out.add(style_id)
    return frozenset(out)


_MERGE_CELL = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]*?\bref\s*=\s*[\"']([A-Za-z]{1,3}\d+)(?::([A-Za-z]{1,3}\d+))?[\"']"
)


def _merged_ranges(workbook: Any, sheet: Any) -> list[tuple[int, int, int, int]]:
    """(min_row, min_col, max_row, max_col) of each merged range of the sheet, sorted.

    openpyxl's streaming reader does not give them, and they are written after the cells, so
    the sheet's XML is scanned for them first (decompressing it once more, in chunks)."""
    from openpyxl.utils.cell import coordinate_to_tuple

    found: set[tuple[int, int, int, int]] = set()
    tail = b""
    with workbook._archive.open(sheet._worksheet_path) as src:
        while True:
            chunk = src.read(1 << 20)
            if not chunk:
                break
            data = tail + chunk
            for m in _MERGE_CELL.finditer(data):
                first = coordinate_to_tuple(m.group(1).decode().upper())
                last = coordinate_to_tuple((m.group(2) or m.group(1)).decode().upper())
                found.add(
                    (min(first[0], last[0]), min(first[1], last[1]), max(first[0], last[0]), max(first[1], last[1]))
                )
            tail = data[-512:]
    return sorted(found)


def _sheet_rows(
    workbook: Any, sheet: Any, text_styles: frozenset[int], merged: list[tuple[int, int, int, int]]
) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cell values) for every row the sheet's XML holds, in order.

    Read with openpyxl's own cell parser, so that the sheet's `<dimension>` is not trusted (its
    streaming reader stops there), and so that a formula cell gives both its stored result and
    the fact that it is a formula."""
    from openpyxl.utils.cell import coordinate_to_tuple
    from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

    class Parser(WorkSheetParser):
        def parse_cell(self, element: Any) -> dict[str, Any]:
            try:
                cell: dict[str, Any] = super().parse_cell(element)
            except ValueError:  # a number openpyxl cannot cast (`NaN`, `INF`): one cell, not the sheet
                cell = self._odd_number(element)
            formula = element.find(FORMULA_TAG)
            if formula is not None:
                cell["formula"] = "=" + (formula.text or "")
                # A result is stored in <v>; an empty <v/> is one only for a text result (t="str"),
                # as Excel writes a formula giving "" (openpyxl writes <v/> for every formula).
                stored = element.find(VALUE_TAG)
                cell["stored"] = stored is not None and (bool(stored.text) or element.get("t") == "str")
            return cell

        def _odd_number(self, element: Any) -> dict[str, Any]:
            coordinate = element.get("r")
            if coordinate:
                row, column = coordinate_to_tuple(coordinate)
            else:
                row, column = int(getattr(self, "row_counter")), int(getattr(self, "col_counter")) + 1  # noqa: B009
            setattr(self, "col_counter", column)  # noqa: B010 (openpyxl's untyped counter)
            text = element.findtext(VALUE_TAG) or ""
            value: Any
            try:
                value = float(text)
            except ValueError:
                value = CellProblem(f"the cell holds {text!r}, which is not a number")
            return {"row": row, "column": column, "value": value, "data_type": "n", "style_id": 0}

    anchors: dict[tuple[int, int], dict[str, Any]] = {}
    anchor_columns: dict[int, list[int]] = {}
    for r0, c0, _, _ in merged:
        anchor_columns.setdefault(r0, []).append(c0)
    pending = list(reversed(merged))  # ranges not started yet, the next one last
    active: list[tuple[int, int, int, int]] = []
    with sheet._get_source() as src:
        parser = Parser(
            src,
            sheet._shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        for row_number, cells in parser.parse():
            by_column = {c["column"]: c for c in cells}
            for column in anchor_columns.get(row_number, ()):
                if column in by_column:
                    anchors[(row_number, column)] = by_column[column]
            if merged:
                while pending and pending[-1][0] <= row_number:
                    active.append(pending.pop())
                active = [r for r in active if r[2] >= row_number]
                for r0, c0, _, c1 in active:
                    anchor = anchors.get((r0, c0))
                    if anchor is None:
                        continue
                    for column in range(c0, min(c1, c0 + 16_384) + 1):
                        if (row_number, column) != (r0, c0):
                            by_column[column] = {**anchor, "column": column}
            width = max(by_column, default=0)
            values: list[Any] = [None] * width
            for column, cell in by_column.items():
                values[column - 1] = _cell_value(cell, text_styles)
            yield row_number, values


def _cell_value(cell: dict[str, Any], text_styles: frozenset[int]) -> Any:
    value = cell["value"]
    if isinstance(value, CellProblem):
        return value
    if "formula" in cell and not cell["stored"]:
        return CellProblem(
            f"formula {cell['formula']} has no stored value; open and save the workbook in Excel or "
            "LibreOffice so that its result is stored, or type the value"
        )
    if cell["data_type"] == "e":
        return CellProblem(f"the cell shows the error {value}; correct it or type the value")
    if cell["style_id"] in text_styles and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    return value


HELPER_SHEET_PREFIX = "_"
README_SHEET = "README"


def is_helper_sheet(title: str) -> bool:
    """Sheets a workbook may hold besides sections (`tomgraph template`): a README, and helper
    sheets (drop-down lists) whose names start with `_`; the loader reads past them."""
    return title.startswith(HELPER_SHEET_PREFIX) or title.casefold() == README_SHEET.casefold()


def _zip_bomb_problem(path: Path, limits: Limits) -> Problem | None:
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        return Problem(path.name, "xlsx", "not a readable .xlsx workbook (not a zip archive)")
    if total > limits.max_file_bytes:
        return Problem(
            path.name,
            "size",
            f"the workbook unpacks to {total:,} bytes, over the limit of {limits.max_file_bytes:,}; refused",
        )
    return None


def read_path(path: Path, limits: Limits) -> RawBundle:
    """Read a bundle in any of its forms."""
    if path.is_dir():
        return read_directory(path, limits)
    if not path.exists():
        return RawBundle(problems=[Problem(str(path), "path", "no such file or directory")])
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return read_workbook(path, limits)
    if suffix in (".yaml", ".yml", ".json"):
        return read_single_file(path, limits)
    return RawBundle(
        problems=[Problem(path.name, "path", "a bundle is a .yaml, .yml, .json or .xlsx file, or a directory")]
    )
