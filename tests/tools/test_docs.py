"""The documentation shipped in the repository: generated pages are fresh, links stay inside it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from graph.docs import EXAMPLE_BUNDLE
from loaders import read_bundle
from tools.docs import GENERATED

REPO = Path(__file__).resolve().parents[2]
LINK = re.compile(
    r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|!\[[^\]]*\]\(([^)\s]+)\)|^\[[^\]]+\]:\s*(\S+)", re.M
)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # https:, mailto:, ...


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_doc_is_fresh(name: str) -> None:
    assert (REPO / "docs" / name).read_text(encoding="utf-8") == GENERATED[name](), (
        f"docs/{name} is stale: run `make docs`"
    )


def _pages() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def links_leaving_or_missing(page: Path, root: Path = REPO) -> list[str]:
    """Relative links of one Markdown page that leave ``root`` (the repository) or name no file."""
    bad = []
    for match in LINK.finditer(page.read_text(encoding="utf-8")):
        target = next(g for g in match.groups() if g)
        if EXTERNAL.match(target) or target.startswith("#"):
            continue
        path = target.split("#", 1)[0]
        resolved = (page.parent / path).resolve()
        if not resolved.is_relative_to(root.resolve()):
            bad.append(f"{page.name}: {target} points outside the repository")
        elif not resolved.exists():
            bad.append(f"{page.name}: {target} does not exist")
    return bad


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(REPO)))
def test_links_stay_inside_the_repository_and_resolve(page: Path) -> None:
    assert links_leaving_or_missing(page) == []


def test_the_link_check_catches_links_out_and_missing_files(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "graph-model.md").write_text("# Graph model\n")
    page = root / "docs" / "probe.md"
    page.write_text("[a](../../shared/spec/rest.md) [b](missing.md) [c](graph-model.md) [d](https://x.org)\n")
    assert links_leaving_or_missing(page, root) == [
        "probe.md: ../../shared/spec/rest.md points outside the repository",
        "probe.md: missing.md does not exist",
    ]


def test_the_bundle_format_examples_form_a_valid_bundle(tmp_path: Path) -> None:
    path = tmp_path / "example.json"
    path.write_text(json.dumps(EXAMPLE_BUNDLE), encoding="utf-8")
    sections = {e.section for e in read_bundle(path).entities}
    assert sections == {k for k in EXAMPLE_BUNDLE if k != "format"}
