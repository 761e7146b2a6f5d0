"""The maturity scorecard as a self-contained HTML page (``tomgraph maturity --format html``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from visualizations.report import _env


def render_maturity_html(result: Mapping[str, Any], titles: Mapping[str, str]) -> str:
    """The scorecard JSON of queries.maturity.scorecard as HTML: one table of scopes and stages,
    then every scope's criteria (value, threshold, evidence, self-assessment). ``titles``: criterion
    id -> title."""
    return _env().get_template("maturity.html.j2").render(m=result, titles=titles)
