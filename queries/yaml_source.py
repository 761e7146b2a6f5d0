"""YAML reading that remembers where each value was written, for errors that name file:line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

PathKey = tuple[str | int, ...]


class YamlProblem(Exception):
    """A file that cannot be read or is not valid YAML; ``place`` is ``file:line``."""

    def __init__(self, place: str, message: str) -> None:
        super().__init__(f"{place}: {message}")
        self.place = place
        self.message = message


@dataclass(frozen=True)
class LocatedYaml:
    """A parsed YAML document and the line on which each mapping key or list item starts."""

    path: Path
    data: object
    lines: dict[PathKey, int] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)
    """``file:line: key: duplicate key`` for every key written twice in one mapping (the value
    read is the last one), so that a caller can report them with its other problems."""

    def place(self, loc: PathKey) -> str:
        """``file:line`` for the deepest prefix of ``loc`` whose line is known."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(loc[:end])
            if line is not None:
                return f"{self.path}:{line}"
        return f"{self.path}:1"


_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_DEPTH = 1000
"""Deepest nesting read: libyaml builds nodes recursively in C, and 100,000 levels overflow its
stack (the process dies); a check or waivers file needs about four."""


def _too_deep(text: str) -> int | None:
    """The line where nesting passes MAX_DEPTH, or None; syntax errors are left to the parse."""
    loader = _LOADER(text)
    depth = 0
    try:
        while (event := loader.get_event()) is not None:
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark.line + 1 if event.start_mark is not None else 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()
    return None


def read_located_yaml(path: Path) -> LocatedYaml:
    """Parse ``path`` (with libyaml, once); raise YamlProblem on a syntax error. Keys written
    twice in one mapping are listed in ``duplicates``, all of them."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlProblem(str(path), f"cannot read: {exc}") from exc
    deep = _too_deep(text)
    if deep is not None:
        raise YamlProblem(f"{path}:{deep}", f"invalid YAML: nested more than {MAX_DEPTH:,} levels deep")
    loader = _LOADER(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlProblem(f"{path}:{line}", f"invalid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(f"{path}:1", f"invalid YAML: {exc}") from exc
    finally:
        loader.dispose()
    lines: dict[PathKey, int] = {}
    duplicates: list[str] = []
    if root is not None:
        _record_lines(path, root, (), lines, duplicates)
    return LocatedYaml(path, data, lines, duplicates)


def _record_lines(path: Path, node: yaml.Node, loc: PathKey, lines: dict[PathKey, int], duplicates: list[str]) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen and key != "<<":
                duplicates.append(f"{path}:{key_node.start_mark.line + 1}: {key}: duplicate key")
            seen.add(key)
            lines[(*loc, key)] = key_node.start_mark.line + 1
            _record_lines(path, value_node, (*loc, key), lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(path, item, (*loc, index), lines, duplicates)
