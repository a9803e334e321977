"""The parts of a map's run that need no server: the fleet's declared slots and the progress line."""

from __future__ import annotations

import io

from wasm_executor.objects import APPROVED, PENDING, Capabilities, Executor, Hardware
from wasm_executor.pool.jobs import Progress, declared_slots


def executor(cpu: str, executortype: str = "wasm", state: int = APPROVED) -> Executor:
    return Executor(executortype=executortype, state=state, capabilities=Capabilities(hardware=[Hardware(cpu=cpu)]))


def test_slots_are_what_approved_executors_of_the_type_declare() -> None:
    fleet = [executor("3000m"), executor("1000m"), executor("4"), executor(""), executor("junk"),
             executor("8000m", executortype="other"), executor("8000m", state=PENDING)]
    assert declared_slots(fleet, "wasm") == 3 + 1 + 4 + 1 + 1


def test_an_executor_without_hardware_counts_as_one_slot() -> None:
    assert declared_slots([Executor(executortype="wasm", state=APPROVED)], "wasm") == 1


def test_progress_shows_done_failed_in_flight_and_ends_its_line() -> None:
    out = io.StringIO()
    progress = Progress("square", 10, out)
    progress.done, progress.failed = 6, 1
    progress.update(3, force=True)
    progress.finish()
    text = out.getvalue()
    assert "square: 6/10 done, 1 failed, 3 in flight" in text and text.endswith("\n")

