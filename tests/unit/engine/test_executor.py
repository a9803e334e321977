"""The executor's rules on a mock transport (an in-memory colony): no server, milliseconds each."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.helpers.fake_colony import FakeColony
from tests.helpers.serving import serving
from wasm_executor import CANCELLED, RUNNING, SUCCESS, WAITING, gen_prvkey
from wasm_executor.engine.supervise import STOPPED_BY_OWNER
from wasm_executor.events import LogLine, Outcome, PollMode, ProcessStarted, SlotChanged, State, StateChanged


async def test_a_process_costs_two_rpcs_and_prints_reach_the_log_only_when_there_are_some() -> None:
    colony = FakeColony()
    async with serving(colony) as run:
        before = len(colony.calls)
        quiet = colony.submit("echo", "hi")
        assert (await run.result(quiet.processid)).status == Outcome.DONE
        assert colony.processes[quiet.processid].output == ["hi"]
        assert colony.calls[before:].count("addlogmsg") == 0
        chatty = colony.submit("chatty", "x")
        assert (await run.result(chatty.processid)).output == ["done x"]
        assert colony.logs[chatty.processid] == ["working on x\n"]


async def test_bad_input_fails_only_its_process_with_a_readable_error() -> None:
    colony = FakeColony()
    async with serving(colony) as run:
        bad = colony.submit("add", "x", "3")
        boom = colony.submit("boom")
        unknown = colony.submit("nope")
        good = colony.submit("multiply", "6", "7")
        assert (await run.result(good.processid)).output == ["42"]
        for p in (bad, boom, unknown):
            await run.result(p.processid)
        assert colony.processes[bad.processid].errors == ["add: first argument 'x' is not a number"]
        assert colony.processes[boom.processid].errors == ["boom raised ValueError: it broke"]
        assert "Traceback" in colony.logs[boom.processid][0] and "it broke" in colony.logs[boom.processid][0]
        assert colony.processes[unknown.processid].errors[0].startswith("unknown function 'nope'")
        assert run.executor.failed == 3 and run.executor.done == 1


async def test_output_json_cannot_carry_exactly_becomes_text_or_a_readable_failure() -> None:
    colony = FakeColony()
    async with serving(colony) as run:
        exact = colony.submit("add", str(2**53), "1")
        huge = colony.submit("power", "10", "200")
        too_long = colony.submit("power", "10", "5000")
        inf = colony.submit("forever")
        digits = colony.submit("add", "9" * 4300, "9" * 4300)
        for p in (exact, huge, too_long, inf, digits):
            await run.result(p.processid)
        assert colony.processes[exact.processid].output == ["9007199254740993"]
        assert colony.processes[huge.processid].output == ["1" + "0" * 200]
        assert colony.processes[too_long.processid].errors == ["output[0] is an integer of more than 4300 digits"]
        assert colony.processes[inf.processid].errors == ["output[0] is inf, which JSON cannot carry"]
        assert colony.processes[digits.processid].errors == ["output[0] is an integer of more than 4300 digits"]
        after = colony.submit("echo", "still serving")
        assert (await run.result(after.processid)).status == Outcome.DONE


async def test_a_refused_close_fails_the_process_with_the_servers_reason() -> None:
    colony = FakeColony(refuse_close="Failed to parse output")
    async with serving(colony) as run:
        p = colony.submit("echo", "x")
        ended = await run.result(p.processid)
        assert ended.status == Outcome.FAILED
        assert colony.processes[p.processid].errors == ["the server refused the output: Failed to parse output"]


async def test_slots_run_processes_at_once() -> None:
    colony = FakeColony()
    async with serving(colony, slots=3) as run:
        started = time.monotonic()
        ps = [colony.submit("sleep", "0.3") for _ in range(3)]
        for p in ps:
            await run.result(p.processid)
        assert time.monotonic() - started < 0.8
        busy = {e.slot for e in run.events if isinstance(e, SlotChanged) and e.funcname == "sleep"}
        assert busy == {0, 1, 2}


async def test_deadline_without_retries_left_fails_it_here() -> None:
    colony = FakeColony()
    async with serving(colony) as run:
        p = colony.submit("block", maxexectime=1, maxretries=0)
        ended = await run.result(p.processid, timeout=3)
        assert ended.status == Outcome.FAILED
        assert colony.processes[p.processid].errors == ["block did not finish within maxexectime 1 s"]
        assert (await run.result(colony.submit("echo", "next").processid)).status == Outcome.DONE


async def test_deadline_with_retries_left_is_left_to_the_server_and_nothing_is_sent() -> None:
    colony = FakeColony()
    async with serving(colony) as run:
        p = colony.submit("block", maxexectime=1, maxretries=2)
        ended = await run.result(p.processid, timeout=3)
        assert ended.status == Outcome.RELEASED
        assert colony.processes[p.processid].state == RUNNING  # ours no more to close: the server requeues it
        colony.requeue(p.processid)
        colony.processes[p.processid].spec.maxexectime = -1  # the retry runs without a deadline …
        colony.processes[p.processid].spec.funcname = "echo"  # … and quickly
        await run.until(lambda: colony.state(p.processid) == SUCCESS)
        assert colony.assigned_count[p.processid] == 2


async def test_cancel_stops_the_code_and_frees_the_slot() -> None:
    colony = FakeColony()
    async with serving(colony, slots=1) as run:
        p = colony.submit("block")
        await run.until(lambda: colony.state(p.processid) == RUNNING)
        colony.cancel(p.processid)  # before or after its cancel watch starts: the watch reads the process too
        ended = await run.result(p.processid)
        assert ended.status == Outcome.CANCELLED and colony.state(p.processid) == CANCELLED
        assert (await run.result(colony.submit("echo", "next").processid)).status == Outcome.DONE


async def test_stop_cuts_the_long_poll_at_once() -> None:
    colony = FakeColony()
    async with serving(colony, poll_timeout=30) as run:
        await run.until(lambda: "assignprocessmsg" in colony.calls)  # a 30 s poll is open
        started = time.monotonic()
        run.executor.stop()
        await run.until(lambda: run.states()[-1] == State.STOPPED)
        assert time.monotonic() - started < 0.5
        queued = colony.submit("echo", "after stop")
        assert colony.state(queued.processid) == WAITING  # nothing polls: it waits for the next start


async def test_a_hidden_page_holds_no_long_poll_and_asks_without_waiting_now_and_then() -> None:
    """A hidden page may be frozen any moment: its open long-poll is cut, and it asks with
    timeout -1 until it is shown again (engine/poll.py)."""
    colony = FakeColony()
    async with serving(colony, poll_timeout=30) as run:
        await run.until(lambda: len(colony.assigns) == 1)  # a 30 s poll is open
        run.executor.set_hidden(True)
        await run.until(lambda: len(colony.assigns) >= 2)
        assert colony.assigns[-1]["timeout"] == -1 and PollMode("short") in run.events
        queued = colony.submit("echo", "while hidden")
        await run.until(lambda: colony.state(queued.processid) == SUCCESS)  # at its next ask
        run.executor.set_hidden(False)
        await run.until(lambda: colony.assigns[-1]["timeout"] == 30)
        assert PollMode("long") in run.events


async def test_a_held_executor_finishes_what_it_runs_takes_nothing_new_and_serves_again_when_let_go() -> None:
    """Pause (engine/poll.py): the open long-poll is cut, no ask goes out, the executor stays a
    member; what runs finishes; after resume the waiting process is served."""
    colony = FakeColony()
    async with serving(colony, poll_timeout=30) as run:
        slow = colony.submit("sleep", "0.3")
        await run.until(lambda: colony.state(slow.processid) == RUNNING)
        await run.until(lambda: len(colony.assigns) == 2)  # the other slot's 30 s poll is open
        run.executor.set_held(True, "on battery")
        await run.until(lambda: run.states()[-1] == State.HELD)
        assert StateChanged(State.HELD, "on battery", run.executor.executorid) in run.events
        assert (await run.result(slow.processid)).status == Outcome.DONE  # what ran finishes
        states = run.states()
        assert State.POLLING not in states[states.index(State.HELD):]  # the cut poll said nothing of its own
        asks = len(colony.assigns)
        queued = colony.submit("echo", "while held")
        await asyncio.sleep(0.3)  # a window for an ask that must not come (the cut poll would have taken it)
        assert colony.state(queued.processid) == WAITING and len(colony.assigns) == asks
        assert run.executor.registered
        run.executor.set_held(False)
        await run.until(lambda: colony.state(queued.processid) == SUCCESS)
        assert run.states()[-1] == State.POLLING


async def test_a_hold_given_before_start_holds_from_the_first_ask() -> None:
    colony = FakeColony()
    async with serving(colony, held=True) as run:
        await run.until(lambda: run.states()[-1] == State.HELD)
        queued = colony.submit("echo", "x")
        await asyncio.sleep(0.3)  # a window for an ask that must not come
        assert colony.assigns == [] and colony.state(queued.processid) == WAITING
        run.executor.set_held(False)
        await run.until(lambda: colony.state(queued.processid) == SUCCESS)


async def test_stop_lets_running_processes_finish_and_stop_now_fails_them() -> None:
    colony = FakeColony()
    async with serving(colony) as run:
        slow = colony.submit("sleep", "0.3")
        await run.until(lambda: colony.state(slow.processid) == RUNNING)
        run.executor.stop()
        assert (await run.result(slow.processid)).status == Outcome.DONE
    colony2 = FakeColony()
    async with serving(colony2) as run:
        stuck = colony2.submit("block")
        await run.until(lambda: colony2.state(stuck.processid) == RUNNING)
        run.executor.stop(now=True)
        assert (await run.result(stuck.processid)).status == Outcome.FAILED
        assert colony2.processes[stuck.processid].errors == [STOPPED_BY_OWNER]


async def test_a_lost_assign_reply_is_found_and_served() -> None:
    colony = FakeColony(lose_next_assign_reply=True)
    async with serving(colony) as run:
        p = colony.submit("echo", "lost in transit")
        await run.until(lambda: colony.state(p.processid) == SUCCESS)
        assert colony.assigned_count[p.processid] == 1  # served once, not run twice
        assert any(isinstance(e, LogLine) and "never reached it" in e.message for e in run.events)


async def test_a_result_is_delivered_through_an_outage() -> None:
    colony = FakeColony()
    async with serving(colony) as run:
        p = colony.submit("sleep", "0.2")
        await run.until(lambda: colony.state(p.processid) == RUNNING)
        colony.down = True
        await run.until(lambda: any(isinstance(e, LogLine) and "unreachable" in e.message for e in run.events))
        assert colony.state(p.processid) == RUNNING
        colony.down = False
        await run.until(lambda: colony.state(p.processid) == SUCCESS)
        assert (await run.result(colony.submit("echo", "after").processid)).status == Outcome.DONE


def logged(run: object) -> list[str]:
    return [e.message for e in run.events if isinstance(e, LogLine)]  # type: ignore[attr-defined]


def last_state_change(run: object) -> StateChanged:
    return next(e for e in reversed(run.events) if isinstance(e, StateChanged))  # type: ignore[attr-defined]


async def test_polling_backs_off_through_an_outage_says_so_and_resets() -> None:
    colony = FakeColony()
    async with serving(colony, first_backoff=0.01, max_backoff=0.04) as run:
        colony.down = True
        await run.until(lambda: sum("retrying in 0.04 s" in e.detail for e in run.events if isinstance(e, StateChanged)) >= 1)
        details = [e.detail for e in run.events if isinstance(e, StateChanged) and "unreachable" in e.detail]
        assert [d.split("retrying in ")[1] for d in details[:3]] == ["0.01 s", "0.02 s", "0.04 s"]
        colony.down = False
        await run.until(lambda: any(m.startswith("the server answers again, after ") for m in logged(run)))
        assert sum(m.startswith("server unreachable") for m in logged(run)) == 1  # once per outage, not per retry
        await run.until(lambda: run.states()[-1] == State.POLLING and last_state_change(run).detail == "")
        assert run.executor.state == State.POLLING
        colony.down = True
        count = len(run.events)
        await run.until(lambda: any("unreachable" in getattr(e, "detail", "") for e in run.events[count:]))
        first_again = next(e.detail for e in run.events[count:] if "unreachable" in getattr(e, "detail", ""))
        assert first_again.endswith("retrying in 0.01 s")  # reset after the success
        colony.down = False


async def test_a_removed_executor_joins_again_with_the_colony_key() -> None:
    colony = FakeColony()
    async with serving(colony, colony_prvkey=gen_prvkey()) as run:
        colony.remove_executor("ex")
        await run.until(lambda: any(isinstance(e, LogLine) and "no longer a member" in e.message for e in run.events))
        await run.until(lambda: colony.executors.get("ex", {}).get("state") == 1)
        assert (await run.result(colony.submit("echo", "back").processid)).status == Outcome.DONE


async def test_without_the_colony_key_it_waits_for_approval_and_says_the_command() -> None:
    colony = FakeColony()
    async with serving(colony, approved=False) as run:
        await run.until(lambda: State.WAITING_APPROVAL in run.states())
        detail = next(e.detail for e in run.events if isinstance(e, StateChanged) and e.state == State.WAITING_APPROVAL)
        assert detail == f"colonies executor add --name ex --type wasm --executorid {run.executor.executorid} --approve"
        colony.approve("ex", run.executor.executorid, "wasm")
        await run.until(lambda: run.states()[-1] == State.POLLING)


@pytest.mark.parametrize("slots", [1, 2])
async def test_nothing_is_lost_or_run_twice_through_repeated_outages(slots: int) -> None:
    colony = FakeColony()
    async with serving(colony, slots=slots) as run:
        ps = [colony.submit("echo", str(i)) for i in range(40)]
        for i in range(8):
            await asyncio.sleep(0.01)
            colony.down = i % 2 == 0
            colony.lose_next_assign_reply = i % 3 == 0
        colony.down = False
        await run.until(lambda: all(colony.state(p.processid) == SUCCESS for p in ps), timeout=8)
        assert all(colony.assigned_count[p.processid] == 1 for p in ps)
        assert [colony.processes[p.processid].output for p in ps] == [[str(i)] for i in range(40)]


def test_long_argument_lists_are_shortened_for_display_only() -> None:
    from wasm_executor.events import shortened

    assert shortened(list(range(25))) == [*(str(i) for i in range(20)), "… 5 more"]
    assert shortened(["x" * 400]) == ["x" * 299 + "…"]
    assert shortened([]) == []


STREAMING = '''
def squares(n, fail_at=-1):
    for i in range(n):
        if i == fail_at:
            raise ValueError("enough")
        yield i * i
'''


async def test_a_generators_items_go_to_the_stream_channel_in_order_before_the_close() -> None:
    colony = FakeColony()
    async with serving(colony, allow_code=True) as run:
        ok = colony.submit("python", STREAMING, kwargs={"call": "squares", "args": [3]}, channels=["stream"])
        assert (await run.result(ok.processid)).status == Outcome.DONE
        assert colony.channels[ok.processid] == [(1, "", "0"), (2, "", "1"), (3, "", "4"), (4, "end", "")]
        assert colony.processes[ok.processid].output == [[0, 1, 4]]  # every item in the output too
        last_append = max(i for i, c in enumerate(colony.calls) if c == "channelappendmsg")
        assert colony.calls.index("closesuccessfulmsg") > last_append

        bad = colony.submit("python", STREAMING, kwargs={"call": "squares", "args": [5, 2]}, channels=["stream"])
        assert (await run.result(bad.processid)).status == Outcome.FAILED
        assert colony.channels[bad.processid] == [
            (1, "", "0"), (2, "", "1"), (3, "error", "python raised ValueError: enough")]

        quiet = colony.submit("python", STREAMING, kwargs={"call": "squares", "args": [3]})  # no channel asked for
        assert (await run.result(quiet.processid)).status == Outcome.DONE
        assert colony.processes[quiet.processid].output == [[0, 1, 4]] and quiet.processid not in colony.channels


async def test_a_process_delivered_while_a_stale_listing_was_on_its_way_is_not_run_again() -> None:
    # The close of p waits until the executor has asked for its RUNNING processes, then goes through
    # while that listing (which still shows p RUNNING) is on its way back.
    colony = FakeColony(stale_listing=0.3, hold_closes=True)
    async with serving(colony, slots=2, poll_timeout=1) as run:
        p = colony.submit("sleep", "0.05")
        await run.until(lambda: colony.state(p.processid) == RUNNING)
        colony.lose_next_assign_reply = True
        lost = colony.submit("echo", "its assign reply is lost: the executor lists what it holds")
        await run.until(lambda: colony.state(p.processid) == SUCCESS and colony.state(lost.processid) == SUCCESS, timeout=5)
        await run.until(lambda: not run.executor._poller.suspect, timeout=5)
        starts = [e for e in run.events if isinstance(e, ProcessStarted) and e.processid == p.processid]
        assert len(starts) == 1, "run twice"
