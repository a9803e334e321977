"""How a map's items become processes, and how a process's output becomes item results. Pure.

A *unit* is one process of a map: items ``[start, stop)``. A unit of one item is a plain call
(`fn(item)`: its output is the value, a raise fails the process). A unit of several is a
*chunk*: the shipped source gains `EACH_SOURCE`, which calls `fn` on each item and keeps each
item's result or exception apart, so one bad item costs only itself.

The chunk size, when the caller does not give one (`Planner`), starts at one item per process
and grows once a unit has been timed: a process should take about `TARGET_SECONDS` on its
executor, and there should be at least `UNITS_PER_SLOT` processes per free slot of the fleet
left, so a slow executor holds up a small share of the map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..objects import CANCELLED, SUCCESS, FunctionSpec, Process, server_time
from ..remote import parse_raised
from .errors import RemoteError

EACH_CALL = "__wasm_executor_each__"
EACH_SOURCE = f'''
async def {EACH_CALL}(call, items):
    """Added by wasm_executor.Pool to a chunk: `call` on each item, each result kept apart:
    [true, value] or [false, type, message, traceback]."""
    import inspect, json, traceback
    fn = globals()[call]
    out = []
    for item in items:
        try:
            value = fn(item)
            if inspect.isawaitable(value):
                value = await value
            json.dumps(value)
            out.append([True, value])
        except Exception as exc:
            out.append([False, type(exc).__name__, str(exc), traceback.format_exc()])
    return out
'''
TARGET_SECONDS = 1.0
UNITS_PER_SLOT = 4
FIRST_CHUNKSIZE = 1


@dataclass(frozen=True)
class Unit:
    """Items ``[start, stop)`` of a map, run by one process; `copy` 0 is their first run, more
    are runs of the same items elsewhere (to compare results, or to overtake a straggler)."""

    start: int
    stop: int
    copy: int = 0

    @property
    def size(self) -> int:
        return self.stop - self.start

    @property
    def items(self) -> Unit:
        """The unit without its copy number: what all copies of these items share."""
        return Unit(self.start, self.stop)

    def again(self, copy: int) -> Unit:
        return Unit(self.start, self.stop, copy)

    @property
    def nodename(self) -> str:
        return f"items {self.start}-{self.stop}" + (f" copy {self.copy}" if self.copy else "")

    def to_json(self) -> list[int]:
        return [self.start, self.stop, self.copy] if self.copy else [self.start, self.stop]


def unit_spec(base: FunctionSpec, unit: Unit, items: list[Any], label: str, executornames: list[str] | None = None) -> FunctionSpec:
    """The process of `unit`: `base` (a plain call's spec, with no args) for its items;
    `executornames`: only these executors may run it (the server matches them at assign)."""
    spec = FunctionSpec.from_dict(base.to_dict())
    spec.label, spec.nodename = label, unit.nodename
    if executornames:
        spec.conditions.executornames = list(executornames)
    chunk = items[unit.start:unit.stop]
    if unit.size == 1:
        spec.kwargs = {**spec.kwargs, "args": chunk}
    else:
        spec.args = [spec.args[0] + EACH_SOURCE]
        spec.kwargs = {**spec.kwargs, "call": EACH_CALL, "args": [spec.kwargs["call"], chunk]}
    return spec


def is_chunk(process: Process) -> bool:
    return process.spec.kwargs.get("call") == EACH_CALL


def failure(process: Process, traceback: str = "") -> RemoteError:
    """The process's error as a `RemoteError` (a cancelled process says so)."""
    if process.state == CANCELLED:
        return RemoteError("Cancelled", "the process was cancelled", processid=process.processid)
    error = process.errors[0] if process.errors else "the process failed without a message"
    parsed = parse_raised(error)
    if parsed is not None:
        return RemoteError(*parsed, traceback, process.processid)
    return RemoteError("", error, traceback, process.processid)


def outcomes(unit: Unit, process: Process, traceback: str = "") -> list[Any]:
    """One result per item of the ended `process` (a `RemoteError` for an item that failed).
    A process that did not succeed, or whose output does not fit the unit, fails every item."""
    if process.state != SUCCESS:
        return [failure(process, traceback)] * unit.size
    output = process.output[0] if process.output else None
    if not is_chunk(process):
        return [output]
    if not isinstance(output, list) or len(output) != unit.size:
        bad = RemoteError("ProtocolError", f"a chunk of {unit.size} items came back as {type(output).__name__}",
                          processid=process.processid)
        return [bad] * unit.size
    results: list[Any] = []
    for entry in output:
        if isinstance(entry, list) and len(entry) == 2 and entry[0] is True:
            results.append(entry[1])
        elif isinstance(entry, list) and len(entry) == 4 and entry[0] is False:
            results.append(RemoteError(str(entry[1]), str(entry[2]), str(entry[3]), process.processid))
        else:
            results.append(RemoteError("ProtocolError", f"a chunk's item came back as {entry!r:.80}", processid=process.processid))
    return results


def seconds_per_item(unit: Unit, process: Process) -> float | None:
    """How long the executor took per item of `unit` (from the server's start and end times)."""
    try:
        took = server_time(process.endtime) - server_time(process.starttime)
    except ValueError:
        return None
    return max(took, 0.0) / unit.size if took >= 0 and process.state == SUCCESS else None


class Planner:
    """Hands out a map's units in order; their size is `chunksize`, or chosen as units are timed."""

    def __init__(self, n: int, chunksize: int | None) -> None:
        if chunksize is not None and (not isinstance(chunksize, int) or chunksize < 1):
            raise ValueError(f"chunksize must be a positive int or None, got {chunksize!r}")
        self.n, self.fixed, self.next_start = n, chunksize, 0
        self.item_seconds: float | None = None  # the slowest per-item time seen: sizes err short

    @property
    def left(self) -> int:
        return self.n - self.next_start

    def timed(self, seconds: float | None) -> None:
        if seconds is not None:
            self.item_seconds = seconds if self.item_seconds is None else max(self.item_seconds * 0.8, seconds)

    def size(self, free_slots: int) -> int:
        if self.fixed is not None:
            return self.fixed
        if self.item_seconds is None:
            return FIRST_CHUNKSIZE
        by_time = TARGET_SECONDS / self.item_seconds if self.item_seconds > 0 else math.inf
        by_share = self.left / (max(free_slots, 1) * UNITS_PER_SLOT)
        return max(1, int(min(by_time, by_share)))

    def next(self, free_slots: int) -> Unit:
        start = self.next_start
        self.next_start = min(self.n, start + self.size(free_slots))
        return Unit(start, self.next_start)
