"""Parsing safety (issue 14): hostile XML, YAML and oversized files are refused with a clear
problem, before anything is expanded or fetched."""

from __future__ import annotations

from pathlib import Path

import pytest

from importers.archimate import import_archimate
from importers.backstage import import_backstage
from importers.mapped import import_mapped
from importers.safe import SourceError
from loaders.sources import Limits

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE model [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<model xmlns="http://www.opengroup.org/xsd/archimate/3.0/" identifier="m"><name>&lol9;</name></model>
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _problems(call) -> list[str]:
    with pytest.raises(SourceError) as e:
        call()
    return [str(p) for p in e.value.problems]


def test_billion_laughs_is_refused_without_expanding(tmp_path: Path) -> None:
    path = _write(tmp_path, "laughs.xml", LAUGHS)
    assert _problems(lambda: import_archimate(path)) == [
        "laughs.xml: xml: refused: the file declares a DTD or entities (DTDForbidden)"
    ]


def test_an_external_entity_is_never_read(tmp_path: Path) -> None:
    secret = _write(tmp_path, "secret.txt", "TOP-SECRET")
    path = _write(
        tmp_path,
        "xxe.xml",
        f'<?xml version="1.0"?>\n<!DOCTYPE model [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        '<model xmlns="http://www.opengroup.org/xsd/archimate/3.0/" identifier="m"><elements>'
        '<element identifier="e" xsi:type="BusinessRole" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<name>&x;</name></element></elements></model>\n",
    )
    problems = _problems(lambda: import_archimate(path))
    assert problems == ["xxe.xml: xml: refused: the file declares a DTD or entities (DTDForbidden)"]
    assert "TOP-SECRET" not in "".join(problems)


def test_an_external_dtd_is_refused(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "dtd.xml",
        '<?xml version="1.0"?>\n<!DOCTYPE model SYSTEM "http://127.0.0.1:9/evil.dtd">\n'
        '<model xmlns="http://www.opengroup.org/xsd/archimate/3.0/" identifier="m"/>\n',
    )
    assert _problems(lambda: import_archimate(path)) == [
        "dtd.xml: xml: refused: the file declares a DTD or entities (DTDForbidden)"
    ]


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path, "huge.xml", "<model>" + "<x/>" * 400_000 + "</model>")
    limits = Limits(max_file_bytes=1_000_000)
    assert _problems(lambda: import_archimate(path, limits)) == [
        "huge.xml: size: the file is 1,600,015 bytes, over the limit of 1,000,000 (TOMGRAPH_MAX_FILE_BYTES)"
    ]
    catalog = _write(tmp_path, "catalog-info.yaml", "# " + "x" * 1_000_001)
    assert _problems(lambda: import_backstage(catalog, limits)) == [
        "catalog-info.yaml: size: the file is 1,000,003 bytes, over the limit of 1,000,000 (TOMGRAPH_MAX_FILE_BYTES)"
    ]


def test_a_yaml_alias_bomb_in_a_catalog_is_refused(tmp_path: Path) -> None:
    lines = ["kind: Component", "metadata: {name: bomb}", "spec:", "  a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    path = _write(tmp_path, "catalog-info.yaml", "apiVersion: backstage.io/v1alpha1\n" + "\n".join(lines) + "\n")
    assert _problems(lambda: import_backstage(path, Limits(max_yaml_nodes=100_000))) == [
        "catalog-info.yaml: yaml: the document expands to more than 100,000 nodes through anchors and aliases; "
        "refused (TOMGRAPH_MAX_YAML_NODES)"
    ]


def test_yaml_that_asks_for_python_objects_is_refused(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "catalog-info.yaml",
        "kind: Component\nmetadata: {name: x}\nspec: !!python/object/apply:os.system ['echo pwned']\n",
    )
    problems = _problems(lambda: import_backstage(path))
    assert len(problems) == 1
    assert problems[0].startswith("catalog-info.yaml:3: yaml: could not determine a constructor")


def test_a_mapping_file_alias_bomb_is_refused(tmp_path: Path) -> None:
    mapping = _write(
        tmp_path,
        "m.yaml",
        "mapping: 1\nx0: &x0 [a, a, a, a, a, a, a, a, a, a]\n"
        + "".join(f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 10) + "]\n" for i in range(1, 8)),
    )
    table = _write(tmp_path, "t.csv", "A\n1\n")
    assert _problems(lambda: import_mapped(table, mapping, Limits(max_yaml_nodes=10_000))) == [
        "m.yaml: yaml: the document expands to more than 10,000 nodes through anchors and aliases; "
        "refused (TOMGRAPH_MAX_YAML_NODES)"
    ]
