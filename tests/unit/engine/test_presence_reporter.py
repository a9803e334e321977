"""An executor tells the colony how it stands, in its capabilities: at once when a person would
read something else (serving, hidden, paused, stopped), and while its counts move."""

from __future__ import annotations

import asyncio

import pytest

from tests.helpers.fake_colony import FakeColony
from tests.helpers.serving import serving
from wasm_executor.engine import presence_reporter
from wasm_executor.events import State
from wasm_executor.objects import SUCCESS, Capabilities
from wasm_executor.presence import Presence


def told(colony: FakeColony) -> Presence | None:
    caps = colony.executors["ex"].get("capabilities")
    return None if caps is None else Presence.of(Capabilities.from_dict(caps))


async def test_each_change_a_person_would_read_is_told_at_once() -> None:
    colony = FakeColony()
    async with serving(colony, slots=3) as run:
        await run.until(lambda: (told(colony) or Presence()).state == "serving")
        said = told(colony)
        assert said is not None and (said.slots, said.free, said.done) == (3, 3, 0)
        assert colony.executors["ex"]["capabilities"]["software"][0]["name"] == "python"  # the device's own kept
        run.executor.set_hidden(True)
        await run.until(lambda: told(colony).state == "hidden")
        run.executor.set_held(True)
        await run.until(lambda: told(colony).state == "paused")
        run.executor.set_held(False)
        run.executor.set_hidden(False)
        await run.until(lambda: told(colony).state == "serving")
        run.executor.stop()
        await run.until(lambda: run.states()[-1] == State.STOPPED)
    assert told(colony).state == "stopped"


async def test_counts_are_told_while_they_move_and_not_when_they_do_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(presence_reporter, "PRESENCE_EVERY", 0.05)
    colony = FakeColony()
    async with serving(colony) as run:
        await run.until(lambda: told(colony) is not None and told(colony).state == "serving")
        for i in range(3):
            p = colony.submit("echo", str(i))
            await run.until(lambda p=p: colony.state(p.processid) == SUCCESS)
        await run.until(lambda: told(colony).done == 3)
        assert told(colony).rate > 0
        await run.until(lambda: told(colony).rate == 0)  # once more when they stop: nothing ended since
        reports = colony.calls.count("updateexecutormsg")
        await asyncio.sleep(0.3)  # six periods for a report that must not come
        assert colony.calls.count("updateexecutormsg") == reports
