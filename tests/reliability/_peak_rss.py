"""Run `tomgraph` and print this process's peak RSS (VmHWM) on stderr at exit.

VmHWM belongs to the address space made at exec, so, unlike `wait4`'s ru_maxrss (which Linux
carries over from the forking parent), it is the loader's own peak."""

from __future__ import annotations

import atexit
import sys
from pathlib import Path


def _report() -> None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            sys.stderr.write(f"\nPEAK-RSS-KB {line.split()[1]}\n")


if __name__ == "__main__":
    atexit.register(_report)
    sys.argv = ["tomgraph", *sys.argv[1:]]
    from cli.main import main

    main()
