"""When several executors' answers on a unit add up to a result (`quorum`)."""

from __future__ import annotations

from wasm_executor.objects import Process
from wasm_executor.pool import RemoteError
from wasm_executor.pool.quorum import NO_QUORUM, Tally, Vote, canonical


def vote(executorid: str, results: list) -> Vote:
    return Vote(executorid, canonical(results), results, Process(processid=f"p-{executorid}"))


def test_canonical_text_ignores_key_order_and_tracebacks_but_not_values() -> None:
    assert canonical([{"a": 1, "b": 2}]) == canonical([{"b": 2, "a": 1}])
    assert canonical([RemoteError("ValueError", "bad", "tb on CPython")]) == canonical([RemoteError("ValueError", "bad", "tb in Pyodide")])
    assert canonical([1]) != canonical([1.5]) and canonical([[1, 2]]) != canonical([[2, 1]])
    assert canonical([RemoteError("ValueError", "bad")]) != canonical([RemoteError("TypeError", "bad")])


def test_two_equal_answers_accept_and_a_third_opinion_is_not_needed() -> None:
    tally = Tally(2)
    tally.add(vote("a", [1, 2]))
    assert tally.verdict() is None
    tally.add(vote("b", [1, 2]))
    verdict = tally.verdict()
    assert verdict is not None and verdict.results == [1, 2] and verdict.odd == []
    assert {v.executorid for v in verdict.agreed} == {"a", "b"}


def test_a_disagreement_asks_a_third_and_names_the_odd_one_out() -> None:
    tally = Tally(2)
    tally.add(vote("a", [1, 2]))
    tally.add(vote("liar", [1, 3]))
    assert tally.verdict() is None  # one more executor decides
    tally.add(vote("c", [1, 2]))
    verdict = tally.verdict()
    assert verdict is not None and verdict.results == [1, 2] and [v.executorid for v in verdict.odd] == ["liar"]


def test_three_different_answers_are_no_quorum_for_every_item() -> None:
    tally = Tally(2)
    for who, answer in (("a", [1]), ("b", [2]), ("c", [3])):
        tally.add(vote(who, answer))
    verdict = tally.verdict()
    assert verdict is not None and verdict.agreed == []
    (error,) = verdict.results
    assert isinstance(error, RemoteError) and error.type_name == NO_QUORUM and "a, b, c" in str(error)


def test_an_executor_votes_once() -> None:
    tally = Tally(2)
    tally.add(vote("a", [1]))
    tally.add(vote("a", [1]))  # the same executor again (a requeued copy): still one voice
    assert tally.verdict() is None and len(tally.votes) == 1


def test_three_replicas_take_up_to_five_executors() -> None:
    tally = Tally(3)
    for who, answer in (("a", [1]), ("b", [1]), ("x", [9]), ("y", [8])):
        tally.add(vote(who, answer))
        assert tally.verdict() is None
    tally.add(vote("c", [1]))
    verdict = tally.verdict()
    assert verdict is not None and verdict.results == [1] and {v.executorid for v in verdict.odd} == {"x", "y"}
