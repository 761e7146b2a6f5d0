"""Coverage output without Neo4j: CSV cells are guarded against formulas, HTML is escaped."""

from __future__ import annotations

import csv
import io

from queries.coverage import CoverageResult
from visualizations.coverage import to_csv, to_html

RESULT: CoverageResult = {
    "scenario": "current",
    "as_of": "2026-11-23",
    "frameworks": [
        {
            "framework": "ours",
            "coverage": 0.5,
            "obligations": [
                {
                    "id": "o1",
                    "ref": "=HYPERLINK(1)",
                    "title": "<b>stop</b>",
                    "applicable": 2,
                    "satisfied": 1,
                    "unsatisfied": [{"subject": "@m-2", "failing": [{"field": "unit", "equals": "-u"}]}],
                    "maps_to": [],
                    "subjects": ["@m-2", "m-1"],
                }
            ],
        }
    ],
}


def test_csv_has_one_guarded_row_per_applicable_pair() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(RESULT))))
    assert rows == [
        ["framework", "obligation", "ref", "title", "subject", "status", "failing"],
        ["ours", "o1", "'=HYPERLINK(1)", "<b>stop</b>", "'@m-2", "fails", "field: unit = -u"],
        ["ours", "o1", "'=HYPERLINK(1)", "<b>stop</b>", "m-1", "holds", ""],
    ]


def test_html_escapes_and_links_failing_cells() -> None:
    page = to_html(RESULT)
    assert "&lt;b&gt;stop&lt;/b&gt;" in page and "<b>stop</b>" not in page
    assert '<a href="/ui/scenarios/current/entities/%40m-2">@m-2</a>' in page
    assert "<li>field: unit = -u</li>" in page
