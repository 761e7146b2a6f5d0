"""`python -m bench yaml`: parsing a YAML bundle, against libyaml's plain load as the floor.

Times, best of `--rounds`, for one generated bundle of `--units` units (about 130 bytes each):
the floor (`yaml.load` with PyYAML's C loader: no lines, no limits), tomgraph's `parse_yaml`
(libyaml, node limit counted while parsing, lines kept, duplicate keys found), and PyYAML's
pure-Python SafeLoader (what tomgraph used before issue 13). Prints JSON with the ratios to the
floor, which is what docs/benchmarks.md quotes (the machine's speed cancels out).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import yaml

from loaders.sources import Limits, parse_yaml


def _best(fn: Callable[[], Any], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench yaml", description=__doc__)
    parser.add_argument("--units", type=int, default=15_000, help="units in the bundle (15,000: about 2 MB)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-python", action="store_true", help="skip the slow pure-Python loader")
    args = parser.parse_args(argv)
    units = [
        {"id": f"u{i}", "name": f"Unit number {i}", "description": "x" * 20, "tags": ["a", "b"], "properties": {"k": i}}
        for i in range(args.units)
    ]
    text = yaml.safe_dump({"units": units})
    floor = _best(lambda: yaml.load(text, Loader=yaml.CSafeLoader), args.rounds)
    ours = _best(lambda: parse_yaml(text, "bundle.yaml", Limits()), args.rounds)
    result: dict[str, Any] = {
        "bytes": len(text),
        "floor_s": round(floor, 3),
        "tomgraph_s": round(ours, 3),
        "tomgraph_ratio": round(ours / floor, 2),
    }
    if not args.no_python:
        python = _best(lambda: yaml.load(text, Loader=yaml.SafeLoader), 1)
        result.update(python_s=round(python, 3), python_ratio=round(python / floor, 2))
    print(json.dumps(result))
