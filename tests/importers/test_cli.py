"""The import, export and template commands (cli.md style): summaries on stdout, exit 2 with
`PLACE: FIELD: MESSAGE` lines for a bad source, never a traceback."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import tomgraph
from tests.importers.helpers import DATA, EXAMPLES
from tests.importers.test_safety import LAUGHS


def test_import_archimate_prints_the_summary_and_writes_a_bundle_that_loads(
    tmp_path: Path, cli_env: dict[str, str], scenario: str
) -> None:
    out = tmp_path / "archisurance.yaml"
    result = tomgraph("import", "archimate", str(DATA / "archisurance-2.1.xml"), "--out", str(out), env=cli_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"Imported {DATA / 'archisurance-2.1.xml'}: 7 entities",
        "  data_domains: 1",
        "  models: 1",
        "  people: 1",
        "  roles: 1",
        "  systems: 1",
        "  units: 1",
        "  workflows: 1",
        "Filled with a default (check these):",
        "  systems.stage = production (no stage property): 1",
        "  workflows.stage = production (no stage property): 1",
        "No place in the bundle (counted by source type):",
        "  Device: 1",
        "  RealizationRelationship: 1",
        "  view (diagram): 1",
        f"Wrote {out}",
    ]
    assert out.read_text().startswith("# imported by `tomgraph import archimate` from ")
    loaded = tomgraph("load", str(out), "--scenario", scenario, "--quiet", env=cli_env)
    assert loaded.returncode == 0, loaded.stderr
    assert "7 entities (7 created" in loaded.stdout


def test_import_backstage_and_mapped_list_what_was_left_out(tmp_path: Path, cli_env: dict[str, str]) -> None:
    result = tomgraph("import", "backstage", str(DATA / "backstage"), "--out", str(tmp_path / "b.yaml"), env=cli_env)
    assert result.returncode == 0, result.stderr
    assert "Left out (4):" in result.stdout.splitlines()
    assert "  org.yaml:54: people.holds: 'ghost-team' resolves to nothing in the catalog" in result.stdout.splitlines()
    result = tomgraph(
        "import",
        "mapped",
        str(EXAMPLES / "ai-inventory.csv"),
        "--map",
        str(EXAMPLES / "ai-inventory.mapping.yaml"),
        "--out",
        str(tmp_path / "m.yaml"),
        env=cli_env,
    )
    assert result.returncode == 0, result.stderr
    assert "  ai-inventory.csv column 'Development Method': 10" in result.stdout.splitlines()


def test_a_bad_mapping_exits_2_with_every_problem_and_its_line(tmp_path: Path, cli_env: dict[str, str]) -> None:
    mapping = tmp_path / "bad.yaml"
    mapping.write_text("mapping: 2\ntargets:\n  - section: units\n    idd: x\n")
    result = tomgraph(
        "import", "mapped", str(EXAMPLES / "ai-inventory.csv"), "--map", str(mapping), "--out", "x.yaml", env=cli_env
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "3 problems in the import source",
        "bad.yaml:1: mapping: Input should be 1",
        "bad.yaml:3: targets[0].id: Field required",
        "bad.yaml:4: targets[0].idd: unknown key",
    ]


def test_a_hostile_file_exits_2_without_a_traceback(tmp_path: Path, cli_env: dict[str, str]) -> None:
    path = tmp_path / "laughs.xml"
    path.write_text(LAUGHS)
    result = tomgraph("import", "archimate", str(path), "--out", str(tmp_path / "x.yaml"), env=cli_env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "1 problem in the import source",
        "laughs.xml: xml: refused: the file declares a DTD or entities (DTDForbidden)",
    ]
    assert not (tmp_path / "x.yaml").exists()


def test_export_archimate_writes_an_exchange_file_that_imports_back(
    tmp_path: Path, cli_env: dict[str, str], scenario: str
) -> None:
    bundle = tmp_path / "b.yaml"
    assert (
        tomgraph("import", "archimate", str(DATA / "archisurance.xml"), "--out", str(bundle), env=cli_env).returncode
        == 0
    )
    assert tomgraph("load", str(bundle), "--scenario", scenario, "--quiet", env=cli_env).returncode == 0
    xml = tmp_path / "out.xml"
    result = tomgraph("export", "archimate", "--scenario", scenario, "--out", str(xml), env=cli_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Wrote {xml}: 15 entities of scenario '{scenario}'\n"
    again = tomgraph("import", "archimate", str(xml), "--out", str(tmp_path / "again.yaml"), env=cli_env)
    assert again.returncode == 0, again.stderr
    assert "No place in the bundle: nothing" in again.stdout.splitlines()
    empty = tomgraph("export", "archimate", "--scenario", "no-such-scenario", "--out", str(xml), env=cli_env)
    assert empty.returncode == 1
    assert empty.stderr == "error: scenario 'no-such-scenario' is empty or does not exist\n"


def test_template_writes_an_xlsx_and_refuses_another_suffix(tmp_path: Path) -> None:
    result = tomgraph("template", "--out", str(tmp_path / "tom.xlsx"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "tom.xlsx").stat().st_size > 0
    wrong = tomgraph("template", "--out", str(tmp_path / "tom.csv"))
    assert wrong.returncode == 2
    assert "the template is an .xlsx workbook" in wrong.stderr
