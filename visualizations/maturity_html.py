"""The maturity scorecard and the transition plan as self-contained HTML pages (``--format html``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from visualizations.report import _env


def render_maturity_html(result: Mapping[str, Any], titles: Mapping[str, str]) -> str:
    """The scorecard JSON of queries.maturity.scorecard as HTML: one table of scopes and stages,
    then every scope's criteria (value, threshold, evidence, self-assessment). ``titles``: criterion
    id -> title."""
    return _env().get_template("maturity.html.j2").render(m=result, titles=titles)


ROADMAP_WIDTH = 900
ROW_HEIGHT = 26
LABEL_WIDTH = 300
RIGHT_MARGIN = 190
"""Room right of the latest due date for its label."""


def roadmap(plan: Mapping[str, Any]) -> dict[str, Any]:
    """The roadmap's geometry: each dated initiative as a bar ending at its due date, on one time
    axis from the earliest of the as-of date and the due dates to the latest due date; the as-of
    date as a line. Initiatives with no due date are listed apart."""
    as_of = date.fromisoformat(plan["as_of"])
    dated = [i for i in plan["initiatives"] if i["due"]]
    dues = [date.fromisoformat(i["due"]) for i in dated]
    start = min([as_of, *dues]) - timedelta(days=15)
    end = max([as_of, *dues]) + timedelta(days=15)
    span = max((end - start).days, 1)

    def x(day: date) -> float:
        return LABEL_WIDTH + (ROADMAP_WIDTH - LABEL_WIDTH - RIGHT_MARGIN) * (day - start).days / span

    bars = []
    for n, (i, due) in enumerate(zip(dated, dues, strict=True)):
        left = x(min(as_of, due))
        bars.append(
            {
                "initiative": i,
                "y": 30 + n * ROW_HEIGHT,
                "x": left,
                "width": max(x(due) - left, 3),
                "due_x": x(due),
            }
        )
    ticks = []
    month = date(start.year, start.month, 1)
    while month <= end:
        if month >= start:
            ticks.append({"x": x(month), "label": month.strftime("%Y-%m")})
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return {
        "width": ROADMAP_WIDTH,
        "height": 40 + len(bars) * ROW_HEIGHT,
        "bars": bars,
        "ticks": ticks,
        "today_x": x(as_of),
        "undated": [i for i in plan["initiatives"] if not i["due"]],
    }


def render_plan_html(plan: Mapping[str, Any]) -> str:
    """The transition plan (queries.plan.transition_plan) as a self-contained HTML page: the
    roadmap (an inline SVG, no script), then each initiative's changes and findings, then the
    changes no initiative covers and the findings no initiative causes."""
    return _env().get_template("plan.html.j2").render(p=plan, road=roadmap(plan))
