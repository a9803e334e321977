"""An executor's presence: what it says of itself now (serving, paused, hidden, …, its slots and
how many are free, what it has done and how fast), so a colony's admin sees the fleet
(`python -m wasm_executor.admission fleet`).

ColonyOS capabilities have no place for it, and the server keeps only the fields it knows: each
fact rides as a `Software` entry of type `PRESENCE_TYPE` (name: the fact, version: its value as
text). This module is the one owner of that encoding: `Presence.entries` writes it, `Presence.of`
reads it back.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .objects import Capabilities, Software

PRESENCE_TYPE = "executor-presence"

# What `state` says, for a person reading the fleet
SERVING = "serving"
PAUSED = "paused"  # by the device's owner (Pause, or on battery)
COLONY_PAUSED = "colony paused"  # the colony's admin paused assignments
HIDDEN = "hidden"  # serving from a page in the background (it may be frozen any moment)
JOINING = "joining"
STOPPING = "stopping"
STOPPED = "stopped"


@dataclass(frozen=True)
class Presence:
    state: str = ""
    slots: int = 0
    free: int = 0
    done: int = 0
    failed: int = 0
    rate: float = 0.0  # processes ended per second, over the time since the last report
    at: str = ""  # when it was said, UTC ISO 8601

    def entries(self) -> list[Software]:
        return [Software(name=f.name, type=PRESENCE_TYPE, version=_text(getattr(self, f.name)))
                for f in dataclasses.fields(self)]

    @classmethod
    def of(cls, capabilities: Capabilities) -> Presence | None:
        """The presence an executor last reported, or None if it reported none (not ours, or old)."""
        said = {sw.name: sw.version for sw in capabilities.software if sw.type == PRESENCE_TYPE}
        if not said:
            return None
        values: dict[str, object] = {}
        for f in dataclasses.fields(cls):
            if f.name not in said:
                continue
            kind = {"int": int, "float": float}.get(str(f.type), str)
            try:
                values[f.name] = kind(said[f.name])
            except ValueError:
                continue  # a fact we cannot read is left at its default
        return cls(**values)  # type: ignore[arg-type]


def _text(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)
