"""`python -m bench NAME ...`: run one benchmark."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "neo4j": "bench.neo4j_start",
    "load": "bench.load",
    "checks": "bench.checks",
    "coverage": "bench.coverage",
    "report": "bench.report",
    "report-tree": "bench.report_tree",
    "view": "bench.view",
    "api": "bench.api",
    "soak": "bench.soak",
    "yaml": "bench.yaml_parse",
    "explorer": "bench.explorer",
    "import": "bench.imports",
    "history": "bench.history",
    "events": "bench.events",
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in BENCHMARKS:
        print(f"usage: python -m bench {{{'|'.join(BENCHMARKS)}}} [options]", file=sys.stderr)
        sys.exit(2)
    module = importlib.import_module(BENCHMARKS[sys.argv[1]])
    module.main(sys.argv[2:])


if __name__ == "__main__":
    main()
