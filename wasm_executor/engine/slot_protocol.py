"""What a slot host and its executor say to each other: one tagged message per event, the same
names over the browser's `postMessage` (web/slot.mjs) and over a CPython slot's pipe (one JSON
line each). The slot's answers:

- ``{"type": "ready", "info": TEXT}``: booted; TEXT is JSON ``{"functions": [...], ...}``;
- ``{"type": "emit", "item": TEXT}``: one item a streaming function yielded (JSON text);
- ``{"type": "result", "result": TEXT}``: the job's `JobResult` (JSON text), its last message.

Payloads travel as JSON text inside the message, as in the browser, where one string is the
cheapest thing to clone.
"""

from __future__ import annotations

import json
from typing import Any

READY, EMIT, RESULT = "ready", "emit", "result"
_PAYLOAD = {READY: "info", EMIT: "item", RESULT: "result"}


class SlotProtocolError(ValueError):
    """A message that is not one of the slot's."""


def encode(kind: str, text: str) -> str:
    """One message as a line of the pipe."""
    return json.dumps({"type": kind, _PAYLOAD[kind]: text}) + "\n"


def decode(line: str) -> tuple[str, str]:
    """(kind, payload text) of one line of the pipe."""
    try:
        message: Any = json.loads(line)
        kind = message["type"]
        return kind, str(message[_PAYLOAD[kind]])
    except (ValueError, KeyError, TypeError):
        raise SlotProtocolError(f"not a slot message: {line[:200]!r}") from None
