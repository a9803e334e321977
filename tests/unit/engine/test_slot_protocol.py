"""The slot protocol: the same tagged messages on a CPython slot's pipe as over postMessage."""

from __future__ import annotations

import json

import pytest

from wasm_executor.engine import slot_protocol
from wasm_executor.engine.job import JobResult


def test_each_message_is_one_tagged_line_and_reads_back() -> None:
    result = JobResult(output=['{"emit": "not a tag"}'])  # output that looks like a message stays output
    for kind, text in [("ready", '{"functions": []}'), ("emit", '"item"'), ("result", result.to_json())]:
        line = slot_protocol.encode(kind, text)
        assert line.endswith("\n") and line.count("\n") == 1
        assert json.loads(line)["type"] == kind
        assert slot_protocol.decode(line) == (kind, text)


@pytest.mark.parametrize("line", ["", "garbage", '{"emit": "x"}', '{"type": "nope"}', '{"type": "result"}', "[1]"])
def test_anything_else_is_refused_by_name(line: str) -> None:
    with pytest.raises(slot_protocol.SlotProtocolError, match="not a slot message"):
        slot_protocol.decode(line)
