"""The linear-time cycle algorithms behind data-ownership-deadlock and broken-escalation-chain."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from queries.cycles import EscalationBreak, broken_escalations, strongly_connected_components


def _groups(edges: list[tuple[str, str]]) -> set[frozenset[str]]:
    return {frozenset(c) for c in strongly_connected_components(edges)}


def _reachable(edges: list[tuple[str, str]], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        for a, b in edges:
            if a == node and b not in seen:
                seen.add(b)
                todo.append(b)
    return seen


def test_two_roles_waiting_on_each_other_form_one_group() -> None:
    assert _groups([("a", "b"), ("b", "a")]) == {frozenset({"a", "b"})}


def test_a_tail_into_a_cycle_stays_outside_the_group() -> None:
    edges = [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a"), ("c", "e")]
    assert _groups(edges) == {frozenset({"a", "b", "c"}), frozenset({"d"}), frozenset({"e"})}


def test_a_chain_without_a_cycle_is_all_singletons() -> None:
    assert _groups([("a", "b"), ("b", "c")]) == {frozenset({"a"}), frozenset({"b"}), frozenset({"c"})}


def test_a_very_long_cycle_needs_no_recursion() -> None:
    n = 200_000
    edges = [(f"r{i}", f"r{(i + 1) % n}") for i in range(n)]
    assert [len(c) for c in strongly_connected_components(edges)] == [n]


@given(st.lists(st.tuples(st.sampled_from("abcdefg"), st.sampled_from("abcdefg")), max_size=25))
def test_groups_are_exactly_the_mutually_reachable_sets(edges: list[tuple[str, str]]) -> None:
    nodes = {n for edge in edges for n in edge}
    reach = {n: _reachable(edges, n) for n in nodes}
    expected = {frozenset(m for m in nodes if m in reach[n] and n in reach[m]) for n in nodes}
    assert _groups(edges) == expected


def test_chain_that_reaches_an_executive_is_fine() -> None:
    escalates_to = {"a": "b", "b": "ceo", "ceo": None}
    assert broken_escalations(escalates_to, {"ceo": True}, ["a"]) == {}


def test_executive_start_is_fine_even_without_escalation() -> None:
    assert broken_escalations({"ceo": None}, {"ceo": True}, ["ceo"]) == {}


def test_chain_that_stops_below_an_executive_is_broken_where_it_stops() -> None:
    escalates_to = {"a": "b", "b": None}
    assert broken_escalations(escalates_to, {}, ["a"]) == {"a": EscalationBreak("stops", "b")}


def test_role_escalating_to_no_one_stops_at_itself() -> None:
    assert broken_escalations({"a": None}, {}, ["a"]) == {"a": EscalationBreak("stops", "a")}


def test_loop_is_named_by_its_smallest_role_whichever_way_it_is_entered() -> None:
    escalates_to = {"tail": "y", "x": "y", "y": "z", "z": "x"}
    assert broken_escalations(escalates_to, {}, ["tail", "z"]) == {
        "tail": EscalationBreak("loops", "x"),
        "z": EscalationBreak("loops", "x"),
    }


def test_self_escalation_loops() -> None:
    assert broken_escalations({"a": "a"}, {}, ["a"]) == {"a": EscalationBreak("loops", "a")}


def test_loop_through_an_executive_is_fine() -> None:
    escalates_to = {"a": "coo", "coo": "advisor", "advisor": "coo"}
    assert broken_escalations(escalates_to, {"coo": True}, ["a"]) == {}


def test_only_start_roles_are_reported() -> None:
    escalates_to = {"a": "b", "b": None}
    assert broken_escalations(escalates_to, {}, ["b"]) == {"b": EscalationBreak("stops", "b")}


def test_many_starts_on_one_long_chain_share_one_walk() -> None:
    n = 200_000
    escalates_to: dict[str, str | None] = {f"r{i}": f"r{i + 1}" for i in range(n)}
    escalates_to[f"r{n}"] = None
    result = broken_escalations(escalates_to, {}, list(escalates_to))
    assert (len(result), set(result.values())) == (n + 1, {EscalationBreak("stops", f"r{n}")})
