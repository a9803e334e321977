"""The ColonyOS conventions a real colony relies on, on the fake colony: paused assignments, an assign
answered with a 5xx, declared resources, env, workflow input and pycolonies' way of sending code."""

from __future__ import annotations

import base64
import time

from tests.helpers.fake_colony import FakeColony
from tests.helpers.serving import serving
from wasm_executor import RUNNING, SUCCESS, WAITING
from wasm_executor.events import LogLine, Outcome, ProcessStarted, State, StateChanged
from wasm_executor.remote import NOT_ALLOWED


async def test_a_paused_colony_is_its_own_state_without_backoff_and_serves_at_once_on_resume() -> None:
    colony = FakeColony()
    async with serving(colony, slots=1, poll_timeout=1, first_backoff=5.0, max_backoff=5.0) as run:
        colony.pause()
        await run.until(lambda: run.executor.state == State.PAUSED, timeout=3)
        paused = [e for e in run.events if isinstance(e, StateChanged) and e.state == State.PAUSED]
        assert "paused by the colony's admin" in paused[0].detail
        polls = len(colony.assigns)
        await run.until(lambda: len(colony.assigns) >= polls + 2, timeout=4)  # polling goes on, with no 5 s backoff
        p = colony.submit("echo", "after resume")
        colony.resume()
        started = time.monotonic()
        assert (await run.result(p.processid)).status == Outcome.DONE
        assert time.monotonic() - started < 1.0
        assert run.executor.state == State.POLLING
        said = [e.detail for e in run.events if isinstance(e, StateChanged)] + [e.message for e in run.events if isinstance(e, LogLine)]
        assert not [t for t in said if "unreachable" in t or "answered" in t], said  # nothing said as an error


async def test_an_assign_the_server_commits_but_answers_with_a_5xx_is_found_and_served_within_a_second() -> None:
    colony = FakeColony(fail_next_assign_reply=True)
    async with serving(colony, slots=1, first_backoff=5.0, max_backoff=5.0) as run:
        p = colony.submit("echo", "assigned, then a 500")
        started = time.monotonic()
        await run.until(lambda: colony.state(p.processid) == SUCCESS, timeout=3)
        assert time.monotonic() - started < 1.0
        assert colony.assigned_count[p.processid] == 1  # served once, not run twice
        assert colony.processes[p.processid].output == ["assigned, then a 500"]


async def test_each_assign_declares_free_cpu_and_slot_memory_and_bigger_asks_stay_waiting() -> None:
    colony = FakeColony()
    async with serving(colony, slots=2, slot_memory_mib=512) as run:
        await run.until(lambda: len(colony.assigns) >= 1)
        assert colony.assigns[0]["availablecpu"] == "2000m"  # both slots free
        assert colony.assigns[0]["availablemem"] == "512Mi"  # what one slot holds
        big = colony.submit("echo", "big")
        big.spec.conditions.mem = "1Gi"
        fits = colony.submit("echo", "fits")
        fits.spec.conditions.mem, fits.spec.conditions.cpu = "256Mi", "1000m"
        assert (await run.result(fits.processid)).status == Outcome.DONE
        busy = colony.submit("sleep", "0.3")
        await run.until(lambda: colony.state(busy.processid) == RUNNING)
        await run.until(lambda: colony.assigns[-1]["availablecpu"] == "1000m")  # one slot left
        assert colony.state(big.processid) == WAITING
        colony.processes.pop(big.processid)  # nobody here can run it


async def test_env_is_the_functions_environment_while_it_runs_and_only_then() -> None:
    colony = FakeColony()
    async with serving(colony, slots=1, allow_code=True) as run:
        code = "import os\nos.environ.get('GREETING', 'unset')"
        first = colony.submit("python", code, env={"GREETING": "hi"})
        assert (await run.result(first.processid)).status == Outcome.DONE
        second = colony.submit("python", code)
        assert (await run.result(second.processid)).status == Outcome.DONE
        assert colony.processes[first.processid].output == ["hi"]
        assert colony.processes[second.processid].output == ["unset"]


async def test_workflow_input_replaces_the_literal_args_of_builtins_and_is_a_shipped_calls_arguments() -> None:
    colony = FakeColony()
    async with serving(colony, slots=1, allow_code=True) as run:
        child = colony.submit("add", "100", "100")
        child.input = [5, 3]  # what the server copies from the parents' outputs on assign
        shipped = colony.submit("python", "def total(*xs):\n    return sum(xs)\n", kwargs={"call": "total", "args": [1]})
        shipped.input = [1, 2, 3]
        snippet = colony.submit("python", "len(inputs)")
        snippet.input = ["a", "b"]
        for p in (child, shipped, snippet):
            assert (await run.result(p.processid)).status == Outcome.DONE
        assert colony.processes[child.processid].output == [8]
        assert colony.processes[shipped.processid].output == [6]
        assert colony.processes[snippet.processid].output == [2]


def _pycolonies_env(source: str) -> dict[str, str]:
    """What pycolonies 1.0.25's `func_spec(fn, ...)` puts in the spec's env."""
    return {"code": base64.b64encode(source.encode("ascii")).decode("ascii"), "args_spec": "a,b"}


async def test_pycolonies_code_runs_like_python_with_consent_and_a_ctx_without_a_key() -> None:
    source = ("def add_up(a, b, ctx=None):\n"
              "    assert 'executor_prvkey' not in ctx and ctx['process']['processid']\n"
              "    return a + b, sorted(ctx)\n")
    colony = FakeColony()
    async with serving(colony, slots=1, allow_code=True) as run:
        p = colony.submit("add_up", 2, 3, env=_pycolonies_env(source))
        assert (await run.result(p.processid)).status == Outcome.DONE
        assert colony.processes[p.processid].output == [5, ["colonyname", "executorid", "executorname", "process"]]
        broken = colony.submit("add_up", 1, env={"code": "not base64!"})
        assert (await run.result(broken.processid)).status == Outcome.FAILED
        assert "not base64" in colony.processes[broken.processid].errors[0]
    refused = FakeColony()
    async with serving(refused, slots=1) as run:
        p = refused.submit("add_up", 2, 3, env=_pycolonies_env(source))
        assert (await run.result(p.processid)).status == Outcome.FAILED
        assert refused.processes[p.processid].errors == [NOT_ALLOWED]


class FailsOnce(list):  # type: ignore[type-arg]
    """An event sink that raises on the first "process running" event, as a print into a closed pipe would."""

    failed = False

    def append(self, event: object) -> None:
        if not self.failed and isinstance(event, ProcessStarted):
            self.failed = True
            raise BrokenPipeError("the page went away")
        super().append(event)


async def test_an_event_sink_that_fails_fails_that_process_and_loses_no_slot() -> None:
    colony = FakeColony()
    async with serving(colony, slots=1, events=FailsOnce()) as run:
        p = colony.submit("echo", "x")
        await run.until(lambda: colony.state(p.processid) not in (WAITING, RUNNING))
        assert colony.processes[p.processid].errors == ["the executor failed running it: BrokenPipeError: the page went away"]
        nxt = colony.submit("echo", "next")
        assert (await run.result(nxt.processid)).status == Outcome.DONE  # the slot came back
