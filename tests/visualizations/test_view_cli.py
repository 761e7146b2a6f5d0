"""`tomgraph view` writes one self-contained page; bad input is one line and an exit status."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import typer
from typer.testing import CliRunner

from cli import view_cmd
from graph.db import Database
from graph.settings import Settings
from loaders import load_bundle

INSURER = Path(__file__).resolve().parents[2] / "examples" / "insurer"


@dataclass
class Context:
    settings: Settings
    db: Database
    debug: bool = False


def view_app(db: Database, settings: Settings) -> typer.Typer:
    app = typer.Typer()
    context = Context(settings, db)
    view_cmd.register(app, lambda: context)

    @app.command("noop")
    def _noop() -> None:  # a second command keeps typer from flattening "view" into the root
        pass

    return app


def payload(html: str) -> dict[str, object]:
    match = re.search(r'id="view-data">(.*?)</script>', html, re.S)
    assert match is not None
    data: dict[str, object] = json.loads(match.group(1))
    return data


def test_view_writes_the_focus_view(db: Database, scenario: str, test_settings: Settings, tmp_path: Path) -> None:
    load_bundle(db, INSURER, scenario)
    out = tmp_path / "v.html"
    args = ["view", "-s", scenario, "--focus", "m-uw-risk-score", "--depth", "2", "--kinds", "models,roles"]
    result = CliRunner().invoke(view_app(db, test_settings), [*args, "--out", str(out), "--as-of", "2026-11-23"])
    assert result.exit_code == 0, result.output
    data = payload(out.read_text(encoding="utf-8"))
    kinds = {n["kind"] for n in data["nodes"]}  # type: ignore[attr-defined]
    assert kinds == {"models", "roles"}
    assert data["focus"] == "m-uw-risk-score" and data["depth"] == 2
    assert "entities" in result.output


def test_view_hierarchy_without_focus_draws_the_org_chart(
    db: Database, scenario: str, test_settings: Settings, tmp_path: Path
) -> None:
    load_bundle(db, INSURER, scenario)
    out = tmp_path / "org.html"
    result = CliRunner().invoke(
        view_app(db, test_settings), ["view", "-s", scenario, "--layout", "hierarchy", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    data = payload(out.read_text(encoding="utf-8"))
    assert data["layout"] == "hierarchy" and data["kinds"] == ["roles"]
    assert len(data["nodes"]) == 23  # type: ignore[arg-type]


def test_view_reports_unknown_focus_kind_and_depth(
    db: Database, scenario: str, test_settings: Settings, tmp_path: Path
) -> None:
    load_bundle(db, INSURER, scenario)
    app = view_app(db, test_settings)
    runner = CliRunner()
    missing = runner.invoke(app, ["view", "-s", scenario, "--focus", "nobody", "--out", str(tmp_path / "x.html")])
    assert missing.exit_code == 1 and "no entity 'nobody'" in missing.output
    bad_kind = runner.invoke(app, ["view", "-s", scenario, "--kinds", "robots", "--out", str(tmp_path / "x.html")])
    assert bad_kind.exit_code == 2 and "unknown kind" in bad_kind.output
    deep = runner.invoke(app, ["view", "-s", scenario, "--focus", "r-ceo", "--depth", "9"])
    assert deep.exit_code == 2 and "depth" in deep.output
    assert not (tmp_path / "x.html").exists()
