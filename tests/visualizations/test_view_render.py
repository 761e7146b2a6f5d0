"""The pure side of graph views: style table, JSON contract, escaping, offline page (no database)."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from graph.ontology import KINDS
from queries.findings import Finding
from visualizations.view import (
    ViewData,
    ViewEdge,
    ViewGroup,
    ViewNode,
    _hierarchy_levels,
    parse_kinds,
    render_view,
    script_json,
    style_table,
    view_json,
)

HOSTILE = "</script><script>window.pwned=1</script>\"'`${1}<!-- \u202eevil\u202c 🤖 &amp; <img src=x onerror=alert(1)>"


def _finding(subject: str, severity: str = "high", waived: bool = False) -> Finding:
    f: Finding = {
        "check": "model-without-change-approver",
        "severity": severity,
        "subjects": [subject],
        "accountable": "r-uw",
        "message": f"{subject} has no change approver {HOSTILE}",
        "remediation": f"Name a change approver {HOSTILE}",
    }
    if waived:
        f["waived"] = {"accepted_by": "r-cro", "reason": f"accepted {HOSTILE}", "expires": "2027-01-01"}
    return f


def hostile_view() -> ViewData:
    nodes = (
        ViewNode("m-1", "models", HOSTILE, {"stage": "production", "tags": [HOSTILE]}, (_finding("m-1"),)),
        ViewNode("r-1", "roles", "Head of <b>Underwriting</b>", {"executive": False}),
        ViewNode(HOSTILE, "vendors", "Acme", {}, (_finding(HOSTILE, waived=True),)),
    )
    edges = (ViewEdge("r-1", "m-1", "OWNS"), ViewEdge("m-1", HOSTILE, "SUPPLIED_BY"))
    return ViewData("current", date(2026, 11, 23), focus="m-1", depth=1, total=3, nodes=nodes, edges=edges)


def embedded_payload(html: str) -> dict[str, object]:
    match = re.search(r'<script type="application/json" id="view-data">(.*?)</script>', html, re.S)
    assert match is not None
    payload: dict[str, object] = json.loads(match.group(1))
    return payload


def test_style_table_is_the_ontology_colour_and_shape_of_every_kind() -> None:
    assert {k: (s.colour, s.shape, s.label) for k, s in style_table().items()} == {
        k.section: (k.colour, k.shape, k.label) for k in KINDS
    }


def test_legend_lists_every_kind_with_its_style() -> None:
    payload = view_json(hostile_view())
    assert payload["legend"] == [
        {"kind": k.section, "label": k.label, "colour": k.colour, "shape": k.shape} for k in KINDS
    ]
    model = next(n for n in payload["nodes"] if n["id"] == "m-1")
    assert (model["shape"], model["color"]["background"]) == ("diamond", style_table()["models"].colour)


def test_hostile_strings_cannot_break_out_of_the_script_tag() -> None:
    html = render_view(hostile_view())
    assert HOSTILE not in html
    assert "<img src=x" not in html
    # Every "</script" in the page closes one of our own three script elements (data, vis, ours).
    assert html.count("</script") == 3
    payload = embedded_payload(html)
    names = {n["id"]: n["name"] for n in payload["nodes"]}  # type: ignore[attr-defined]
    assert names["m-1"] == HOSTILE
    assert names[HOSTILE] == "Acme"


def test_script_json_is_ascii_and_has_no_markup_characters() -> None:
    text = script_json({"x": HOSTILE})
    assert text.isascii()
    assert not set("<>&") & set(text)
    assert json.loads(text) == {"x": HOSTILE}


def test_page_is_self_contained_with_no_remote_resource() -> None:
    html = render_view(hostile_view())
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html, re.I)
    assert "https://" not in re.sub(r"<script>.*?</script>|<style>.*?</style>", "", html, flags=re.S)
    assert "vis.Network" in html
    assert "default-src 'none'" in html


def test_gap_nodes_carry_open_and_waived_counts_and_their_border() -> None:
    payload = view_json(hostile_view())
    nodes = {n["id"]: n for n in payload["nodes"]}
    assert (nodes["m-1"]["open"], nodes["m-1"]["waived"], nodes["m-1"]["color"]["border"]) == (1, 0, "#d32f2f")
    assert (nodes[HOSTILE]["open"], nodes[HOSTILE]["waived"]) == (0, 1)
    assert nodes[HOSTILE]["shapeProperties"] == {"borderDashes": [6, 4]}
    assert nodes["r-1"]["open"] == 0 and nodes["r-1"]["borderWidth"] == 1
    assert nodes["m-1"]["resource"] == "/scenarios/current/entities/m-1"


def test_over_the_cap_the_page_holds_groups_and_says_how_to_narrow() -> None:
    data = ViewData(
        "current",
        date(2026, 11, 23),
        node_cap=10,
        total=25,
        groups=(ViewGroup("models", 15, 3), ViewGroup("roles", 10)),
    )
    payload = embedded_payload(render_view(data))
    assert payload["grouped"] is True
    assert [n["id"] for n in payload["nodes"]] == ["group:models", "group:roles"]  # type: ignore[attr-defined]
    message = str(payload["message"])
    assert "25 entities" in message and "--focus" in message and "--kinds" in message


def test_parse_kinds_accepts_sections_and_labels_and_rejects_the_rest() -> None:
    assert parse_kinds("models, Vendor,models") == ("models", "vendors")
    assert parse_kinds(None) is None
    with pytest.raises(ValueError, match="unknown kind"):
        parse_kinds("models,spaceships")


def test_hierarchy_levels_follow_reporting_lines_and_survive_cycles() -> None:
    edges = [("r-cfo", "r-ceo", "REPORTS_TO"), ("r-fin", "r-cfo", "REPORTS_TO"), ("r-fin", "r-ceo", "ESCALATES_TO")]
    assert _hierarchy_levels(["r-fin", "r-cfo", "r-ceo"], edges) == {"r-ceo": 0, "r-cfo": 1, "r-fin": 2}
    looped = _hierarchy_levels(["a", "b"], [("a", "b", "REPORTS_TO"), ("b", "a", "REPORTS_TO")])
    assert set(looped) == {"a", "b"}
