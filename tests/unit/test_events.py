"""The page's commands and the executor's events: parsed, coerced and refused with `CommandError`."""

from __future__ import annotations

import dataclasses

import pytest

from wasm_executor.events import (
    CommandError,
    Hold,
    Outcome,
    ProcessEnded,
    Start,
    State,
    StateChanged,
    Stop,
    describe,
    parse_command,
    to_message,
)

START = {"type": "start", "server_url": " http://127.0.0.1:50080 ", "colonyname": "dev", "executorname": "b", "executortype": "wasm"}


def test_start_is_trimmed_and_coerced() -> None:
    cmd = parse_command({**START, "slots": "3", "slot_memory_mib": "512", "colony_prvkey": "", "allow_code": "true"})
    assert isinstance(cmd, Start)
    assert (cmd.server_url, cmd.slots, cmd.slot_memory_mib, cmd.colony_prvkey) == ("http://127.0.0.1:50080", 3, 512, None)
    assert cmd.allow_code is False  # consent is a real true only
    assert parse_command({**START, "allow_code": True}).allow_code is True
    assert parse_command({**START, "slots": 0}).slots == 1


@pytest.mark.parametrize("message", [
    {"type": "launch"},
    {"type": "start"},
    {**START, "slots": "many"},
    {**START, "slot_memory_mib": "lots"},
])
def test_bad_commands_raise_command_error(message: dict) -> None:
    with pytest.raises(CommandError):
        parse_command(message)


def test_unknown_fields_are_ignored_and_stop_defaults_to_finishing() -> None:
    assert parse_command({"type": "stop", "extra": 1}) == Stop(now=False)


def test_hold_holds_unless_told_false_and_keeps_its_reason_as_text() -> None:
    assert parse_command({"type": "hold", "held": False}) == Hold(False, "")
    assert parse_command({"type": "hold", "reason": "on battery"}) == Hold(True, "on battery")
    assert parse_command({"type": "hold", "held": "no", "reason": 3}) == Hold(True, "3")  # only a real false lets go


def test_events_become_page_messages_and_terminal_lines() -> None:
    state = StateChanged(State.PAUSED, "paused by the colony's admin")
    assert to_message(state) == {"type": "state", "state": "paused", "detail": "paused by the colony's admin", "executorid": ""}
    assert describe(state) == "[paused]: paused by the colony's admin"
    ended = ProcessEnded("p", "add", ["1", "2"], 0, Outcome.DONE, ["3"], "", 1.5, 1, 0)
    assert describe(ended) == "     done add(1 2) -> 3  [1.5 ms, slot 0]"
    assert to_message(ended)["status"] == "done"


def test_start_speaks_executor_configs_names_besides_the_slots_own_settings() -> None:
    from wasm_executor.engine.config import ExecutorConfig

    config = {f.name for f in dataclasses.fields(ExecutorConfig)}
    start = {f.name for f in dataclasses.fields(Start)}
    assert start - config == set(Start.PAGE_ONLY)
    assert "prvkey" not in start  # the executor's key never comes from the page


def test_a_start_made_in_python_is_as_clean_as_one_parsed() -> None:
    made = Start(" http://127.0.0.1:50080 ", "dev ", "a", "wasm", colony_prvkey="", slots="2", allow_code="yes")  # type: ignore[arg-type]
    assert made == parse_command({**START, "server_url": "http://127.0.0.1:50080", "colonyname": "dev", "executorname": "a",
                                  "executortype": "wasm", "slots": 2})
    with pytest.raises(CommandError):
        Start("http://x", "dev", "a", "wasm", slots="many")  # type: ignore[arg-type]
