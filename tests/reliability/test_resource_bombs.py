"""Resource bombs are refused quickly, with a clear message and bounded memory.

Each bomb is checked by `tomgraph load --dry-run` in a child process; the child's peak RSS comes
from `os.wait4`. The figures are printed (run with `-s`) and kept in docs/reliability.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.bundles import SMALL_BUNDLE, write_xlsx, write_yaml

TIME_LIMIT_S = 20.0
RSS_OVER_BASELINE_MB = 300.0


def _dry_run(path: Path, env: dict[str, str] | None = None) -> tuple[int, str, float, float]:
    """(exit status, stderr, seconds, peak RSS in MB) of `tomgraph load PATH --dry-run`."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "tests.reliability._peak_rss", "load", str(path), "--dry-run"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    seconds = time.monotonic() - started
    stderr, _, peak = done.stderr.rpartition("\nPEAK-RSS-KB ")
    return done.returncode, stderr, seconds, int(peak) / 1024


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> float:
    code, stderr, seconds, rss = _dry_run(write_yaml(SMALL_BUNDLE, tmp_path_factory.mktemp("b") / "small.yaml"))
    assert code == 0, stderr
    print(f"\nbaseline: valid small bundle, {seconds:.2f} s, peak RSS {rss:.0f} MB")
    return rss


def _assert_refused(name: str, path: Path, expected: str, baseline: float, env: dict[str, str] | None = None) -> None:
    code, stderr, seconds, rss = _dry_run(path, env)
    print(f"\n{name}: exit {code}, {seconds:.2f} s, peak RSS {rss:.0f} MB: {stderr.strip().splitlines()[-1]}")
    assert code == 2, stderr
    assert expected in stderr, stderr
    assert seconds < TIME_LIMIT_S
    assert rss < baseline + RSS_OVER_BASELINE_MB


def test_yaml_billion_laughs(tmp_path: Path, baseline: float) -> None:
    lines = ['lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"lol{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]  # 10^10 nodes
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    _assert_refused("YAML billion laughs (10^10 nodes)", path, "laughs.yaml: yaml: the document expands", baseline)


def test_csv_over_the_file_size_limit(tmp_path: Path, baseline: float) -> None:
    directory = tmp_path / "bundle"
    directory.mkdir()
    row = b"u%d,A unit with a long enough name to fill the file quickly\n"
    with open(directory / "units.csv", "wb") as f:
        f.write(b"id,name\n")
        chunk = b"".join(row % i for i in range(100_000))
        while f.tell() < 101 * 1024 * 1024:
            f.write(chunk)
    _assert_refused("CSV of 101 MB (limit 100 MB)", directory, "units.csv: size: the file is", baseline)


def test_csv_of_millions_of_tiny_rows_stops_at_the_entity_limit(tmp_path: Path, baseline: float) -> None:
    # Under the size limit, but far more rows than entities allowed: reading stops at the limit.
    directory = tmp_path / "bundle"
    directory.mkdir()
    with open(directory / "units.csv", "wb") as f:
        f.write(b"id,name\n" + b"".join(b"u%d,n\n" % i for i in range(2_000_000)))
    _assert_refused(
        "CSV of 2,000,000 tiny rows (TOMGRAPH_MAX_ENTITIES=50000)",
        directory,
        "units.csv:row 50002: entities: more than 50,000 rows",
        baseline,
        {"TOMGRAPH_MAX_ENTITIES": "50000"},
    )


def test_xlsx_zip_bomb(tmp_path: Path, baseline: float) -> None:
    good = write_xlsx({"units": [{"id": "u1", "name": "One"}]}, tmp_path / "good.xlsx")
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info, src.read(info))
                continue
            head = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            body = b'<sheetData><row r="1"><c t="inlineStr"><is><t>id</t></is></c></row>'
            pad = b"<!--" + b"x" * (1024 * 1024 - 7) + b"-->"
            with dst.open(info.filename, "w", force_zip64=True) as out:
                out.write(head + body)
                for _ in range(200):  # 200 MB of sheet XML, a few hundred KB zipped
                    out.write(pad)
                out.write(b"</sheetData></worksheet>")
    assert bomb.stat().st_size < 2 * 1024 * 1024
    _assert_refused("XLSX zip bomb (200 MB sheet XML)", bomb, "bomb.xlsx: size: the workbook unpacks to", baseline)


@pytest.mark.parametrize("form", ["yaml", "json"])
def test_deep_nesting(tmp_path: Path, baseline: float, form: str) -> None:
    depth = 1_000_000
    path = tmp_path / f"deep.{form}"
    if form == "json":
        path.write_text(
            '{"units": [{"id": "u1", "name": "x", "properties": {"k": ' + "[" * depth + "]" * depth + "}}]}"
        )
    else:
        path.write_text("units:\n- id: u1\n  name: x\n  properties:\n    k: " + "[" * depth + "]" * depth + "\n")
    _assert_refused(
        f"{form.upper()} nested {depth:,} deep",
        path,
        f"deep.{form}: {form}: the document is nested too deeply",
        baseline,
    )


def test_reading_stops_at_the_entity_limit_in_csv_and_excel(tmp_path: Path) -> None:
    """Regression: CSV and Excel rows were all read into memory before the entity limit was
    checked (a 32 MB CSV of 3,000,000 tiny rows took 2.7 GB and 26 s to be refused). Reading now
    stops at the limit: the broken row after it is never reached, and the place is named."""
    from loaders import BundleError, Limits, read_bundle

    directory = tmp_path / "bundle"
    directory.mkdir()
    (directory / "units.csv").write_text("id,name\n" + "".join(f"u{i},n\n" for i in range(20)) + 'u99,"never closed\n')
    workbook = write_xlsx({"roles": [{"id": f"r{i}", "name": "n"} for i in range(20)]}, tmp_path / "b.xlsx")
    for path, place in ((directory, "units.csv:row 12"), (workbook, "roles!row 12")):
        with pytest.raises(BundleError) as caught:
            read_bundle(path, Limits(max_entities=10))
        assert [str(p) for p in caught.value.problems] == [
            f"{place}: entities: more than 10 rows, over the limit of entities in a bundle; "
            "refused (TOMGRAPH_MAX_ENTITIES)"
        ]
