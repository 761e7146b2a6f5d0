"""Shared pieces of the benchmarks: the database from the usual settings, synthetic bundles
cached on disk, and peak memory of a child process."""

from __future__ import annotations

import hashlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from graph.db import Database
from graph.schema import apply_schema
from graph.settings import Settings
from loaders import synth

CACHE = Path(os.environ.get("TOMGRAPH_BENCH_CACHE", Path(tempfile.gettempdir()) / "tomgraph-bench"))


def database() -> Database:
    """NEO4J_URI when set, else the local Neo4j (started if needed), schema applied."""
    db = Database.from_settings(Settings())
    db.verify()
    apply_schema(db)
    return db


def synth_bundle(size: str, seed: int = 0) -> Path:
    """DIR with bundle.json and expected.json for (size, seed), generated once and cached.

    The cache is keyed by the generator's source too, so that a change to loaders/synth.py (new
    sections, new plants) never benchmarks an old bundle."""
    version = hashlib.sha256(Path(synth.__file__).read_bytes()).hexdigest()[:12]
    out = CACHE / f"{size}-{seed}-{version}"
    if not (out / "expected.json").exists():
        synth.write(size, seed, out)
    return out


def run_child(args: list[str]) -> tuple[float, float]:
    """Run `python -m …args` to completion; (wall seconds, its peak RSS in MB). Raises on failure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest of any child so far; each benchmark's first child is the loader.
    return seconds, max(peak_kb, before) / 1024


def own_peak_rss_mb() -> float:
    """This process's peak RSS in MB (VmHWM, which starts afresh at exec, unlike the rusage of
    children): what a benchmark's child process reports of itself."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmHWM in /proc/self/status")
