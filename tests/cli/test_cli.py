"""The `tomgraph` command: help everywhere, exit statuses and one-line errors (cli.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.bundles import SMALL_BUNDLE, write_yaml


def tomgraph(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, env=env, timeout=300
    )


def _all_commands() -> list[list[str]]:
    """Every command and subcommand of the real app, so a new one is covered without editing this."""
    import typer.main

    from cli.main import app

    found: list[list[str]] = [[]]

    def walk(group: Any, prefix: list[str]) -> None:
        for name, command in group.commands.items():
            found.append([*prefix, name])
            if hasattr(command, "commands"):  # a group of subcommands
                walk(command, [*prefix, name])

    walk(typer.main.get_command(app), [])
    return found


@pytest.mark.parametrize("command", _all_commands(), ids=lambda c: " ".join(c) or "tomgraph")
def test_every_command_has_help(command: list[str]) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage: " in result.output and " [OPTIONS]" in result.output


def test_the_cli_names_every_command_of_the_spec() -> None:
    names = {" ".join(c) for c in _all_commands()}
    assert {"load", "serve", "demo", "synth", "neo4j start", "neo4j stop", "neo4j status"} <= names


def test_load_valid_bundle_exits_0(tmp_path: Path, cli_env: dict[str, str], scenario: str) -> None:
    path = write_yaml(SMALL_BUNDLE, tmp_path / "b.yaml")
    result = tomgraph("load", str(path), "--scenario", scenario, "--quiet", env=cli_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Loaded {path} into scenario '{scenario}' in ")
    assert "15 entities (15 created, 0 updated, 0 removed)" in result.stdout


def test_load_invalid_bundle_exits_2_listing_problems(tmp_path: Path, cli_env: dict[str, str]) -> None:
    path = tmp_path / "b.yaml"
    path.write_text("units:\n  - {id: u1}\n  - {id: u1, name: Two}\n")
    result = tomgraph("load", str(path), "--dry-run", env=cli_env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "2 problems in the bundle",
        "b.yaml:2: name: required field is missing",
        "b.yaml:3: id: duplicate id 'u1', already used at b.yaml:2",
    ]


def test_unreachable_database_exits_1_with_one_line(tmp_path: Path, cli_env: dict[str, str]) -> None:
    path = write_yaml(SMALL_BUNDLE, tmp_path / "b.yaml")
    env = {**cli_env, "NEO4J_URI": "bolt://127.0.0.1:1"}
    result = tomgraph("load", str(path), env=env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach Neo4j at bolt://127.0.0.1:1: ")
    assert "Traceback" not in result.stderr
