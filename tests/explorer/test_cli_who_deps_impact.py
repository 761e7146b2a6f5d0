"""`tomgraph who`, `deps` and `impact` (cli.md v1.1): the REST answers on the command line."""

from __future__ import annotations

import json

from tests.api.conftest import ApiClient
from tests.cli.test_cli import tomgraph

MODEL = "m-uw-risk-score"


def test_who_says_in_words_who_decides_and_matches_the_rest_answer(
    api: ApiClient, insurer: str, cli_env: dict[str, str]
) -> None:
    text = tomgraph("who", MODEL, "--scenario", insurer, env=cli_env)
    rest = api.get(f"/scenarios/{insurer}/entities/{MODEL}/who", key="reader").json()
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines() == rest["sentences"]
    assert "Nobody is named to approve its changes." in text.stdout
    as_json = tomgraph("who", MODEL, "--scenario", insurer, "--format", "json", env=cli_env)
    assert json.loads(as_json.stdout) == rest


def test_deps_and_impact_answer_as_the_rest_routes(api: ApiClient, insurer: str, cli_env: dict[str, str]) -> None:
    deps = tomgraph(
        "deps", MODEL, "--downstream", "--depth", "2", "--scenario", insurer, "--format", "json", env=cli_env
    )
    rest = api.get(
        f"/scenarios/{insurer}/entities/{MODEL}/dependencies?direction=downstream&depth=2&limit=1000", key="reader"
    ).json()
    assert deps.returncode == 0, deps.stderr
    assert json.loads(deps.stdout)["items"] == rest["items"]
    impact = tomgraph("impact", "v-riskwise", "--scenario", insurer, env=cli_env)
    rest_impact = api.get(f"/scenarios/{insurer}/impact/v-riskwise", key="reader").json()
    assert impact.returncode == 0, impact.stderr
    counts = ", ".join(f"{c['count']} {c['kind']}" for c in rest_impact["counts"])
    assert impact.stdout.splitlines()[0] == (
        f"If RiskWise Analytics (v-riskwise) fails, {rest_impact['total']} entities are affected: {counts}."
    )


def test_unknown_id_exits_1_with_one_line(insurer: str, cli_env: dict[str, str]) -> None:
    for command in ("who", "deps", "impact"):
        done = tomgraph(command, "m-nope", "--scenario", insurer, env=cli_env)
        assert (done.returncode, done.stderr.strip()) == (1, f"error: no entity 'm-nope' in scenario '{insurer}'")
