"""The local Neo4j's supervisor: a small process that runs the Neo4j JVM and restarts it when it
dies without being asked to stop (a crash, an out-of-memory exit, `kill -9`), logging each crash.

Usage (by graph/local_neo4j.py, never by hand):
`python -m graph.neo4j_supervisor ROOT MAX_RESTARTS -- JAVA_COMMAND...`

ROOT is the local Neo4j's directory: the supervisor writes its own PID to `supervisor.pid`, the
JVM's to `neo4j.pid`, the JVM's output to `launcher.log` (appended) and one line per crash to
`crashes.log` (also copied into `launcher.log`). It stops for good, and stops the JVM cleanly, on
SIGTERM or SIGINT, or when `ROOT/stop` exists; it gives up after MAX_RESTARTS crashes within
`WINDOW_S` (a crash loop would otherwise never end), leaving the reason in both logs.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

WINDOW_S = 600.0
"""Crashes counted against MAX_RESTARTS within this many seconds."""
STOP_GRACE_S = 60.0
"""How long a clean JVM shutdown may take before it is killed."""
BACKOFF_S = (0.5, 2.0, 5.0, 10.0)


def describe_exit(code: int) -> str:
    """`-9` → `signal 9 (SIGKILL)`, `3` → `exit status 3`."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "unknown"
        return f"signal {-code} ({name})"
    return f"exit status {code}"


class Supervisor:
    def __init__(self, root: Path, max_restarts: int, command: list[str]) -> None:
        self.root = root
        self.max_restarts = max_restarts
        self.command = command
        self.stopping = False
        self.child: subprocess.Popen[bytes] | None = None

    @property
    def stop_file(self) -> Path:
        return self.root / "stop"

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)

    def log_crash(self, message: str) -> None:
        line = f"{datetime.now(UTC).isoformat(timespec='seconds')} tomgraph-supervisor: {message}\n"
        with open(self.root / "crashes.log", "a", encoding="utf-8") as crashes:
            crashes.write(line)
        with open(self.root / "launcher.log", "a", encoding="utf-8") as log:
            log.write(line)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        (self.root / "supervisor.pid").write_text(str(__import__("os").getpid()))
        crashes: deque[float] = deque()
        try:
            while True:
                with open(self.root / "launcher.log", "ab") as log:
                    self.child = subprocess.Popen(
                        self.command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
                    )
                (self.root / "neo4j.pid").write_text(str(self.child.pid))
                code = self._wait()
                if self.stopping or self.stop_file.exists():
                    return 0
                now = time.monotonic()
                crashes.append(now)
                while crashes and now - crashes[0] > WINDOW_S:
                    crashes.popleft()
                if len(crashes) > self.max_restarts:
                    self.log_crash(
                        f"Neo4j (pid {self.child.pid}) died with {describe_exit(code)}; "
                        f"{len(crashes)} crashes within {WINDOW_S:.0f} s, giving up (see the log above)"
                    )
                    return 1
                self.log_crash(f"Neo4j (pid {self.child.pid}) died with {describe_exit(code)}; restarting it")
                time.sleep(BACKOFF_S[min(len(crashes) - 1, len(BACKOFF_S) - 1)])
                if self.stopping or self.stop_file.exists():
                    return 0
        finally:
            (self.root / "neo4j.pid").unlink(missing_ok=True)
            (self.root / "supervisor.pid").unlink(missing_ok=True)

    def _wait(self) -> int:
        assert self.child is not None
        while True:
            try:
                code = self.child.wait(timeout=0.5)
                return code
            except subprocess.TimeoutExpired:
                if self.stop_file.exists() and not self.stopping:
                    self.stopping = True
                    self.child.send_signal(signal.SIGTERM)
                if self.stopping:
                    try:
                        return self.child.wait(timeout=STOP_GRACE_S)
                    except subprocess.TimeoutExpired:
                        self.child.kill()
                        return self.child.wait()


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        print("usage: python -m graph.neo4j_supervisor ROOT MAX_RESTARTS -- JAVA_COMMAND...", file=sys.stderr)
        return 64
    return Supervisor(Path(argv[0]), int(argv[1]), argv[3:]).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
