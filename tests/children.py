"""A loader in a child process for the kill tests: `python -m MODULE ARGS...`, which prints one
marker line at each point of interest (`read`, `commit`, `staging`, `done`, ...) and is then
killed for real with SIGKILL."""

from __future__ import annotations

import signal
import subprocess
import sys
import time


class LoaderChild:
    def __init__(self, module: str, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_for(self, marker: str, timeout: float = 120) -> None:
        """Read the child's output until the line `marker`."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        for line in self.process.stdout:
            if line.strip() == marker:
                return
            assert time.monotonic() < deadline
        raise AssertionError(f"the loader ended before {marker!r}: {self.process.stderr.read()}")  # type: ignore[union-attr]

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
