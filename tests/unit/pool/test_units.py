"""How a map's items become processes (`units`): specs of plain calls and chunks, a chunk run
for real by the engine, outcomes per item, and the chunk-size planner."""

from __future__ import annotations

import pytest

from wasm_executor.builtins import default_registry
from wasm_executor.engine.job import Job, run_job
from wasm_executor.objects import CANCELLED, FAILED, SUCCESS, FunctionSpec, Process
from wasm_executor.pool import Pool, RemoteError
from wasm_executor.pool.units import EACH_CALL, TARGET_SECONDS, UNITS_PER_SLOT, Planner, Unit, outcomes, seconds_per_item, unit_spec


def halve(x):
    if x == 3:
        raise ValueError("three is odd here")
    return x / 2


ITEMS = [2, 4, 3, 8]


def base_spec() -> FunctionSpec:
    pool = Pool(client=None, colonyname="c", prvkey="k", executortype="t")  # type: ignore[arg-type]
    return pool.spec(halve, [], {})


def ended(spec: FunctionSpec, state: int, output: list | None = None, errors: list[str] | None = None,
          start: str = "2026-12-04T10:00:00.000000000Z", end: str = "2026-12-04T10:00:02.500000000Z") -> Process:
    return Process(processid="p1", spec=spec, state=state, output=output or [], errors=errors or [], starttime=start, endtime=end)


def test_a_unit_of_one_item_is_a_plain_call() -> None:
    spec = unit_spec(base_spec(), Unit(1, 2), ITEMS, "job-1")
    assert (spec.label, spec.nodename, spec.kwargs["call"], spec.kwargs["args"]) == ("job-1", "items 1-2", "halve", [4])
    assert EACH_CALL not in spec.args[0]


def test_a_chunk_ships_the_each_wrapper_and_its_items() -> None:
    spec = unit_spec(base_spec(), Unit(0, 4), ITEMS, "job-1")
    assert (spec.nodename, spec.kwargs["call"], spec.kwargs["args"]) == ("items 0-4", EACH_CALL, ["halve", ITEMS])
    assert spec.args[0].startswith(base_spec().args[0]) and f"def {EACH_CALL}" in spec.args[0]


async def test_a_chunk_runs_each_item_and_keeps_a_failure_to_itself() -> None:
    spec = unit_spec(base_spec(), Unit(0, 4), ITEMS, "job-1")
    result = await run_job(default_registry(), Job("p1", "python", spec.args, spec.kwargs))
    assert result.error == "", result.error + result.log
    got = outcomes(Unit(0, 4), ended(spec, SUCCESS, result.output))
    assert got[:2] == [1.0, 2.0] and got[3] == 4.0
    assert isinstance(got[2], RemoteError)
    assert (got[2].type_name, got[2].message, got[2].processid) == ("ValueError", "three is odd here", "p1")
    assert "halve" in got[2].traceback


def test_a_failed_process_fails_every_item_of_its_unit() -> None:
    spec = unit_spec(base_spec(), Unit(0, 3), ITEMS, "j")
    got = outcomes(Unit(0, 3), ended(spec, FAILED, errors=["python raised MemoryError: out of memory"]), "tb")
    assert len(got) == 3 and all(isinstance(e, RemoteError) and e.type_name == "MemoryError" and e.traceback == "tb" for e in got)
    cancelled = outcomes(Unit(0, 3), ended(spec, CANCELLED))
    assert {e.type_name for e in cancelled} == {"Cancelled"}


@pytest.mark.parametrize("output", [[[[True, 1]]], [{"not": "a list"}], [[[True, 1], [True, 2], "junk"]]])
def test_a_chunk_output_that_does_not_fit_fails_clearly(output: list) -> None:
    spec = unit_spec(base_spec(), Unit(0, 3), ITEMS, "j")
    got = outcomes(Unit(0, 3), ended(spec, SUCCESS, output))
    assert any(isinstance(e, RemoteError) and e.type_name == "ProtocolError" for e in got)


def test_seconds_per_item_come_from_the_servers_times() -> None:
    spec = unit_spec(base_spec(), Unit(0, 4), ITEMS, "j")
    assert seconds_per_item(Unit(0, 4), ended(spec, SUCCESS, [[]])) == pytest.approx(2.5 / 4)
    assert seconds_per_item(Unit(0, 4), ended(spec, FAILED)) is None
    assert seconds_per_item(Unit(0, 4), ended(spec, SUCCESS, end="0001-01-01T00:00:00Z")) is None


def test_a_fixed_chunksize_cuts_the_items_in_order() -> None:
    planner = Planner(10, 4)
    units = [planner.next(8) for _ in range(3)]
    assert units == [Unit(0, 4), Unit(4, 8), Unit(8, 10)] and planner.left == 0


@pytest.mark.parametrize("bad", [0, -1, 2.5, "3"])
def test_a_chunksize_that_is_not_a_positive_int_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="chunksize"):
        Planner(10, bad)  # type: ignore[arg-type]


def test_the_automatic_size_starts_at_one_then_aims_at_the_target_time() -> None:
    planner = Planner(100_000, None)
    assert planner.next(4).size == 1
    planner.timed(0.001)  # 1 ms an item: about TARGET_SECONDS worth
    assert planner.next(4).size == int(TARGET_SECONDS / 0.001)


def test_the_automatic_size_leaves_work_for_every_slot() -> None:
    planner = Planner(200, None)
    planner.timed(0.0001)  # fast items: time alone would put all 200 in one process
    size = planner.next(10).size
    assert size == 200 // (10 * UNITS_PER_SLOT)


def test_the_automatic_size_follows_a_slower_item_at_once() -> None:
    planner = Planner(100_000, None)
    planner.timed(0.001)
    planner.timed(0.1)
    assert planner.next(1).size == int(TARGET_SECONDS / 0.1)
