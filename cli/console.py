"""Rich consoles for the CLI: as rich makes them on a terminal; when the output is piped or
redirected, lines are never wrapped (rich would wrap at 80 columns), so that they stay greppable
and a table row stays one line."""

from __future__ import annotations

from rich.console import Console

PIPED_WIDTH = 100_000
"""Width given to a console that is not a terminal: wide enough that nothing wraps."""


def console(*, stderr: bool = False) -> Console:
    """A console on standard output (or error) that does not wrap when it is not a terminal."""
    probe = Console(stderr=stderr)
    if probe.is_terminal:
        return probe
    return Console(stderr=stderr, width=PIPED_WIDTH, soft_wrap=True)
