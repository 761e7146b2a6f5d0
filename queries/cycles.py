"""Linear-time graph algorithms for the cycle checks, run in Python over a projected relation."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal


def strongly_connected_components(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (no recursion limit), O(nodes + edges).

    Returns every strongly connected component, singletons included, each in discovery order.
    """
    successors: dict[str, list[str]] = {}
    for source, target in edges:
        successors.setdefault(source, []).append(target)
        successors.setdefault(target, [])

    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> tuple[str, Iterator[str]]:
        index[node] = lowlink[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        return node, iter(successors[node])

    for root in successors:
        if root in index:
            continue
        work = [visit(root)]
        while work:
            node, pending = work[-1]
            for successor in pending:
                if successor not in index:
                    work.append(visit(successor))
                    break
                if successor in on_stack:
                    lowlink[node] = min(lowlink[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    lowlink[parent] = min(lowlink[parent], lowlink[node])
                if lowlink[node] == index[node]:
                    component: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(component)
    return components


@dataclass(frozen=True)
class EscalationBreak:
    """Where an escalation chain fails: it ``stops`` at a non-executive role with nowhere to go,
    or it ``loops``; ``at`` is then the smallest role id of the loop, whichever way it was entered."""

    kind: Literal["stops", "loops"]
    at: str


def broken_escalations(
    escalates_to: Mapping[str, str | None],
    executive: Mapping[str, bool],
    starts: Iterable[str],
) -> dict[str, EscalationBreak]:
    """For each start role whose chain never reaches an executive role, where it breaks.

    Each role has at most one ``escalates_to``, so every chain is a walk in a functional graph;
    outcomes are memoised per role, which keeps the whole computation linear in the number of roles.
    A role that is itself executive is fine. A target unknown to ``escalates_to`` ends the chain.
    """
    start_roles = list(dict.fromkeys(starts))
    outcome: dict[str, EscalationBreak | None] = {}
    for start in start_roles:
        path: list[str] = []
        position: dict[str, int] = {}
        node = start
        while True:
            if node in outcome:
                result = outcome[node]
                break
            if executive.get(node, False):
                result = None
                break
            if node in position:
                result = EscalationBreak("loops", min(path[position[node] :]))
                break
            position[node] = len(path)
            path.append(node)
            successor = escalates_to.get(node)
            if successor is None or successor not in escalates_to:
                result = EscalationBreak("stops", node)
                break
            node = successor
        for member in path:
            outcome[member] = result
    return {role: brk for role in start_roles if (brk := outcome.get(role)) is not None}
