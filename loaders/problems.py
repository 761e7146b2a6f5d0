"""Problems found in a bundle, each reported as `PLACE: FIELD: MESSAGE`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    place: str
    field: str
    message: str

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
