"""Problems found in a bundle, each reported as `PLACE: FIELD: MESSAGE`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

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


class BundleError(Exception):
    """The bundle is invalid; `problems` lists every problem found in one pass."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(self.summary())

    def summary(self) -> str:
        n = len(self.problems)
        return f"{n} problem{'s' if n != 1 else ''} in the bundle"

    def __str__(self) -> str:
        return "\n".join([self.summary(), *(str(p) for p in self.problems)])
