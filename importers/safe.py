"""Hardened parsing of untrusted sources (import.md; issue 14, "Parsing safety").

XML goes through defusedxml with document type declarations refused outright: no external
entity (file or network) is ever fetched, and no entity can expand (billion laughs, quadratic
blow-up). YAML is read with PyYAML's safe loader and refused when it has more nodes than the
limit, aliases counted as what they repeat (the loader's own count, loaders/sources.py). Files over the size limit
are refused before they are read.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import yaml
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from loaders.problems import BundleError, Problem
from loaders.sources import Limits, yaml_size_problem


class SourceError(BundleError):
    """The source (or the mapping file) cannot be imported; `problems` lists every problem."""

    def summary(self) -> str:
        n = len(self.problems)
        return f"{n} problem{'s' if n != 1 else ''} in the import source"


def read_bytes(path: Path, limits: Limits) -> bytes:
    """The file's bytes; SourceError when it is missing or over `limits.max_file_bytes`."""
    if not path.is_file():
        raise SourceError([Problem(str(path), "path", "no such file")])
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise SourceError(
            [
                Problem(
                    path.name,
                    "size",
                    f"the file is {size:,} bytes, over the limit of {limits.max_file_bytes:,} "
                    "(TOMGRAPH_MAX_FILE_BYTES)",
                )
            ]
        )
    return path.read_bytes()


def parse_xml(path: Path, limits: Limits) -> ET.Element:
    """The root element of an XML file, parsed with DTDs, entities and external references refused."""
    data = read_bytes(path, limits)
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as e:
        raise SourceError(
            [Problem(path.name, "xml", f"refused: the file declares a DTD or entities ({type(e).__name__})")]
        ) from None
    except ET.ParseError as e:
        line = getattr(e, "position", (0, 0))[0]
        raise SourceError([Problem(f"{path.name}:{line}" if line else path.name, "xml", str(e))]) from None


def parse_yaml_documents(text: str, name: str, limits: Limits) -> list[tuple[Any, int]]:
    """Every document of a (multi-document) YAML text, each with the line it starts on; safe
    loading only (no Python objects), and each document's expanded size under the node limit."""
    loader = yaml.SafeLoader(text)
    out: list[tuple[Any, int]] = []
    try:
        too_big = yaml_size_problem(text, name, limits)
        if too_big is not None:
            raise SourceError([too_big])
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            out.append((loader.construct_document(node), node.start_mark.line + 1))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        place = f"{name}:{mark.line + 1}" if mark else name
        raise SourceError([Problem(place, "yaml", str(e.problem or e.context or e).strip())]) from None
    except yaml.YAMLError as e:
        raise SourceError([Problem(name, "yaml", str(e).strip())]) from None
    except RecursionError:
        raise SourceError([Problem(name, "yaml", "the document is nested too deeply")]) from None
    finally:
        loader.dispose()
    return out


def decode(data: bytes, name: str) -> str:
    """UTF-8 text (a BOM is accepted); SourceError naming the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise SourceError([Problem(f"{name}:{line}", "encoding", f"not UTF-8 (byte 0x{data[e.start]:02x})")]) from None


class LinedDict(dict[str, Any]):
    """A YAML mapping with the line it starts on and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class _LinedLoader(yaml.SafeLoader):
    pass


def _lined_mapping(loader: _LinedLoader, node: yaml.MappingNode) -> LinedDict:
    loader.flatten_mapping(node)
    out = LinedDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        key = str(key) if not isinstance(key, str) else key
        if key in out:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        out.key_lines[key] = key_node.start_mark.line + 1
        out[key] = loader.construct_object(value_node, deep=True)
    return out


_LinedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _lined_mapping)
# Dates stay text: a mapping file names columns and values, never dates to compute with.
_LinedLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_lined_yaml(text: str, name: str, limits: Limits) -> Any:
    """One YAML document whose mappings know their lines (for `FILE:LINE: FIELD: MESSAGE`)."""
    loader = _LinedLoader(text)
    try:
        too_big = yaml_size_problem(text, name, limits)
        if too_big is not None:
            raise SourceError([too_big])
        node = loader.get_single_node()
        if node is None:
            return None
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        place = f"{name}:{mark.line + 1}" if mark else name
        raise SourceError([Problem(place, "yaml", str(e.problem or e.context or e).strip())]) from None
    except yaml.YAMLError as e:
        raise SourceError([Problem(name, "yaml", str(e).strip())]) from None
    finally:
        loader.dispose()
