"""The presence an executor reports rides in its capabilities and reads back the same."""

from __future__ import annotations

from wasm_executor.objects import Capabilities, Software
from wasm_executor.presence import PRESENCE_TYPE, Presence


def test_presence_reads_back_what_was_written_beside_other_software() -> None:
    said = Presence("hidden", 3, 1, 120, 4, 2.5, "2026-12-04T04:00:00+00:00")
    caps = Capabilities(software=[Software("python", "pyodide", "3.13"), *said.entries()])
    back = Presence.of(Capabilities.from_dict(caps.to_dict()))  # as the server hands it back
    assert back == said


def test_no_presence_is_none_and_a_fact_that_does_not_read_keeps_its_default() -> None:
    assert Presence.of(Capabilities(software=[Software("python", "cpython", "3.11")])) is None
    odd = Capabilities(software=[Software("state", PRESENCE_TYPE, "serving"), Software("done", PRESENCE_TYPE, "lots")])
    assert Presence.of(odd) == Presence(state="serving")
