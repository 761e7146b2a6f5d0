"""Issue 13, upload amplification: a bundle with thousands of problems lists the first 1,000
and says how many more there are, on the command line as over REST, and never holds the rest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from loaders.problems import MAX_PROBLEMS, BundleError, Problem, ProblemList

REPO = Path(__file__).resolve().parents[2]


def test_a_problem_list_keeps_the_first_1000_and_counts_the_rest_through_every_way_of_adding() -> None:
    problems = ProblemList()
    for i in range(1500):
        problems.append(Problem(f"f:{i}", "x", "bad"))
    part = ProblemList(Problem(f"g:{i}", "y", "bad") for i in range(1200))
    assert (len(part), part.omitted) == (MAX_PROBLEMS, 200)
    problems += part
    problems.extend([Problem("h:1", "z", "bad")])
    assert len(problems) == MAX_PROBLEMS and problems[-1] == Problem("f:999", "x", "bad")
    assert problems.omitted == 500 + 1200 + 1 and problems.total == 1500 + 1200 + 1
    error = BundleError(problems)
    assert (len(error.problems), error.omitted, error.summary()) == (1000, 1701, "2,701 problems in the bundle")
    assert error.omitted_line() == "… and 1,701 more problems"


def test_tomgraph_load_lists_1000_problems_then_says_how_many_more(tmp_path: Path) -> None:
    bundle = tmp_path / "many.yaml"
    bundle.write_bytes(b"format: 1\nmodels: [" + b",".join([b"{}"] * 3000) + b"]\n")  # 3 problems an item
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "load", "--dry-run", str(bundle)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "9,000 problems in the bundle"
    assert len(lines) == 1 + 1000 + 1
    assert all(line.startswith("many.yaml:") for line in lines[1:-1])
    assert lines[-1] == "… and 8,000 more problems"
