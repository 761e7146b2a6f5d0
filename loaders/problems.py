"""Problems found in a bundle, each reported as `PLACE: FIELD: MESSAGE`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, SupportsIndex

MAX_PROBLEMS = 1_000
"""Problems kept and reported for one bundle; beyond it they are only counted (issue 13: a
1.5 MB bundle of 500,000 empty items gave 1,000,000 problems, a 78 MB answer)."""

_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` with control characters and lone surrogates written as escapes (`\\x00`, `\\udc80`),
    so that a problem naming a damaged key or file prints on one line and cannot drive a terminal."""

    def escape(m: re.Match[str]) -> str:
        code = ord(m.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNPRINTABLE.sub(escape, text)


@dataclass(frozen=True, order=True)
class Problem:
    """One problem: where (`file:line`, `file:row N`, `sheet!row N`), which field, what is wrong.
    All three are stored printable (see `printable`), whatever text the bundle held."""

    place: str
    field: str
    message: str

    def __post_init__(self) -> None:
        for name in ("place", "field", "message"):
            value = getattr(self, name)
            if _UNPRINTABLE.search(value):
                object.__setattr__(self, name, printable(value))

    def __str__(self) -> str:
        return f"{self.place}: {self.field}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"place": self.place, "field": self.field, "message": self.message}


class ProblemList(list[Problem]):
    """A list of problems that keeps the first `cap` and counts the rest in `omitted`.

    Everything that collects problems appends to one of these, so a bundle with a million
    problems holds a thousand in memory. Adding another `ProblemList` carries its count over.
    """

    def __init__(self, problems: Iterable[Problem] = (), cap: int = MAX_PROBLEMS) -> None:
        super().__init__()
        self.cap = cap
        self.omitted = 0
        self.extend(problems)

    def append(self, problem: Problem) -> None:
        if len(self) < self.cap:
            super().append(problem)
        else:
            self.omitted += 1

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.append(problem)
        self.omitted += getattr(problems, "omitted", 0)

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled with its cap and count (a worker process sends its problems back pickled)
        return (type(self), (list(self), self.cap), {"omitted": self.omitted})

    def __iadd__(self, problems: Iterable[Problem]) -> ProblemList:  # type: ignore[override,misc]
        self.extend(problems)
        return self

    def insert(self, index: SupportsIndex, problem: Problem) -> None:
        if len(self) < self.cap:
            super().insert(index, problem)
        else:
            self.omitted += 1

    @property
    def total(self) -> int:
        return len(self) + self.omitted


class BundleError(Exception):
    """The bundle is invalid; `problems` lists the problems found in one pass, at most
    `MAX_PROBLEMS` of them, and `omitted` counts those found beyond."""

    def __init__(self, problems: Iterable[Problem], omitted: int = 0) -> None:
        kept = ProblemList(problems)
        self.problems: list[Problem] = list(kept)
        self.omitted = kept.omitted + omitted
        super().__init__(self.summary())

    @property
    def total(self) -> int:
        return len(self.problems) + self.omitted

    def summary(self) -> str:
        n = self.total
        return f"{n:,} problem{'s' if n != 1 else ''} in the bundle"

    def omitted_line(self) -> str | None:
        """`… and N more problems` when some were left out, else None."""
        if not self.omitted:
            return None
        return f"… and {self.omitted:,} more problem{'s' if self.omitted != 1 else ''}"

    def __str__(self) -> str:
        lines = [self.summary(), *(str(p) for p in self.problems)]
        if self.omitted:
            lines.append(self.omitted_line() or "")
        return "\n".join(lines)
