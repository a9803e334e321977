"""The execution engine: the executor loop (`executor`) and its rooms (`membership`, `supervise`,
`delivery`, `report`, `intake`), the slots it runs functions in (`slots`, `process_slots`,
`browser_slots`) and the slot runtime they share (`job`).

The names below load on first use (PEP 562): a slot imports `engine.job` without the executor,
the client and the network behind it.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "ColonyExecutor": "executor", "ExecutorConfig": "config", "join_command": "membership",
    "Job": "job", "JobResult": "job",
    "FunctionInfo": "slots", "InlineSlots": "slots", "SlotLost": "slots", "SlotPool": "slots",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
