"""Write the generated documentation: `python -m tools.docs [DOCS_DIR]` (`make docs`).

docs/graph-model.md and docs/bundle-format.md come from the ontology (graph/docs.py),
docs/checks.md from the built-in check files (queries/docs.py). A test fails when a written
file differs from what this would write.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from graph.docs import render_bundle_format, render_graph_model
from queries.docs import render_checks

GENERATED: dict[str, Callable[[], str]] = {
    "graph-model.md": render_graph_model,
    "bundle-format.md": render_bundle_format,
    "checks.md": render_checks,
}
"""File name in docs/ -> the function that renders it."""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    docs = Path(args[0]) if args else Path(__file__).resolve().parent.parent / "docs"
    for name, render in GENERATED.items():
        (docs / name).write_text(render(), encoding="utf-8")
        print("wrote", docs / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
