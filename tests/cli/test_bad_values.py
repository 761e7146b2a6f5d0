"""Days outside the calendar's margin, bad settings and a bad port: one line `error: ...` on
standard error and exit 2, never a traceback (cli.md, exit statuses)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cli.main
from graph.days import OUT_OF_RANGE
from graph.db import Database
from loaders import load_bundle
from tests.cli.test_cli import tomgraph as child

REPO = Path(__file__).resolve().parents[2]
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def tomgraph(monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    """`tomgraph ARGS` in this process (a child process per case costs seconds): exit status,
    standard output and standard error; the settings are read afresh from `env` each time."""

    def run(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
        monkeypatch.setattr(cli.main, "_context", None)
        for name in os.environ:
            if name.startswith(("NEO4J_", "TOMGRAPH_")):
                monkeypatch.delenv(name)
        result = CliRunner().invoke(cli.main.app, list(args), env=env)
        if cli.main._context is not None:
            cli.main._context.close()
        return result.exit_code, result.stdout, result.stderr

    yield run


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("check", "--as-of", "9999-12-31"), "--as-of"),
        (("check", "--since", "9999-12-31"), "--since"),
        (("check", "--at", "0001-01-01"), "--at"),
        (("events", "stats", "--as-of", "9999-12-31"), "--as-of"),
        (("view", "--as-of", "9999-12-31"), "--as-of"),
        (("diff", "current@9999-12-31", "current"), "A"),
        (("load", str(REPO / "examples" / "insurer"), "--effective", "9999-12-31"), "--effective"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else v,
)
def test_a_day_outside_the_range_is_exit_2_naming_the_option(
    args: tuple[str, ...], option: str, cli_env: dict[str, str], scenario: str, tomgraph: Run
) -> None:
    code, _out, err = tomgraph(*args, *(() if args[0] == "diff" else ("-s", scenario)), env=cli_env)
    day = "0001-01-01" if "0001-01-01" in args else "9999-12-31"
    assert (code, err) == (2, f"error: {option}: '{day}' {OUT_OF_RANGE}\n")


def _env(**extra: str) -> dict[str, str]:
    return {"NEO4J_URI": "bolt://127.0.0.1:1", "COLUMNS": "200", **extra}


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "TOMGRAPH_QUERY_TIMEOUT_S",
            "abc",
            "error: TOMGRAPH_QUERY_TIMEOUT_S: Input should be a valid number, unable to parse string as a number",
        ),
        (
            "TOMGRAPH_HISTORY_KEEP_DAYS",
            "-5",
            "error: TOMGRAPH_HISTORY_KEEP_DAYS: Input should be greater than or equal to 0",
        ),
        (
            "NEO4J_URI",
            "notascheme://x",
            "error: NEO4J_URI: the scheme 'notascheme' is not one of "
            "bolt://, bolt+s://, bolt+ssc://, neo4j://, neo4j+s://, neo4j+ssc://",
        ),
        ("NEO4J_URI", "bolt://[::1", "error: NEO4J_URI: not a URI (Invalid IPv6 URL)"),
        ("NEO4J_URI", "neo4j://db?x", "error: NEO4J_URI: Invalid parameters:'x=' in query string 'x'."),
    ],
)
@pytest.mark.parametrize("command", [("check",), ("serve",)])
def test_a_bad_setting_is_exit_2_naming_the_variable(
    variable: str, value: str, message: str, command: tuple[str, ...], tomgraph: Run
) -> None:
    assert tomgraph(*command, env=_env(**{variable: value})) == (2, "", message + "\n")


@pytest.mark.parametrize("port", ["99999", "0"])
def test_serve_refuses_a_port_outside_1_to_65535(port: str, tomgraph: Run) -> None:
    code, out, err = tomgraph("serve", "--port", port, env=_env())
    assert (code, out) == (2, "")
    assert "Invalid value for '--port': Input should be" in err and "tomgraph API on" not in err


def test_export_of_a_scenario_with_only_a_future_version_is_the_clean_error_of_check(
    tmp_path: Path, cli_env: dict[str, str], db: Database, scenario: str
) -> None:
    load_bundle(db, REPO / "examples" / "insurer", scenario, effective=date.today() + timedelta(days=400))
    check = child("check", "-s", scenario, env=cli_env)
    export = child("export", "archimate", "-s", scenario, "-o", str(tmp_path / "x.xml"), env=cli_env)
    assert (export.returncode, export.stdout, export.stderr) == (1, "", check.stderr)
    assert export.stderr.startswith(f"error: scenario '{scenario}' ") and export.stderr.count("\n") == 1
    assert not (tmp_path / "x.xml").exists()
