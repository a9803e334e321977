"""What the executor reports, and what the page asks of it: one typed protocol for page and terminal.

h11's events are the model: small frozen dataclasses, one per kind of news, with no I/O in them.
The runtime emits them; `to_message` turns one into the plain object the page receives
(`{"type": kind, ...fields}`, field names as here), and `describe` turns one into the line the
terminal prints. The page's commands to the worker (`Start`, `Stop`, `Identity`) are parsed by
`parse_command` and use the same field names as `ExecutorConfig`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar


class State(StrEnum):
    """The executor's state, shown on the page as is."""

    READY = "ready"  # loaded, not started
    REGISTERING = "registering"
    WAITING_APPROVAL = "waiting for approval"
    POLLING = "polling"  # joined and taking work; what the slots do is in `SlotChanged`
    PAUSED = "paused"  # the colony's admin paused assignments (`colonies process pause`): waiting for resume
    HELD = "paused by you"  # the device's owner paused serving (Pause, or on battery): still a member, asks for nothing
    STOPPING = "stopping"
    STOPPED = "stopped"
    ERROR = "error"


class Outcome(StrEnum):
    """How one process ended for this executor."""

    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"  # by `colonies process cancel`: the server already has it CANCELLED
    RELEASED = "released"  # past maxexectime with retries left: stopped here, the server hands it out again
    LOST = "lost"  # the server no longer lets us close it (requeued, removed): nothing was sent


def short(value: Any, limit: int = 300) -> str:
    """A value shortened for display (never for the server)."""
    try:
        text = value if isinstance(value, str) else repr(value)
    except Exception:  # repr() of a huge integer can itself fail
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shortened(values: list[Any], items: int = 20) -> list[str]:
    """A list shortened for display: the first `items`, each `short`, then how many more."""
    shown = [short(v) for v in values[:items]]
    return [*shown, f"… {len(values) - items} more"] if len(values) > items else shown


@dataclass(frozen=True)
class Event:
    kind: ClassVar[str] = ""


@dataclass(frozen=True)
class StateChanged(Event):
    kind: ClassVar[str] = "state"
    state: State
    detail: str = ""
    executorid: str = ""


@dataclass(frozen=True)
class Registered(Event):
    kind: ClassVar[str] = "registered"
    executorid: str
    functions: list[str]
    slots: int


@dataclass(frozen=True)
class ProcessStarted(Event):
    kind: ClassVar[str] = "process"
    processid: str
    funcname: str
    args: list[str]  # shortened for display, never the full input
    slot: int
    status: ClassVar[str] = "running"


@dataclass(frozen=True)
class ProcessEnded(Event):
    kind: ClassVar[str] = "process"
    processid: str
    funcname: str
    args: list[str]
    slot: int
    status: Outcome
    output: list[str] = field(default_factory=list)  # shortened for display
    error: str = ""
    millis: float = 0.0
    done: int = 0
    failed: int = 0


@dataclass(frozen=True)
class SlotChanged(Event):
    """A slot took a process (`funcname` set) or became idle (`funcname` empty)."""

    kind: ClassVar[str] = "slot"
    slot: int
    funcname: str = ""
    processid: str = ""


@dataclass(frozen=True)
class LogLine(Event):
    kind: ClassVar[str] = "log"
    message: str


@dataclass(frozen=True)
class IdentityReady(Event):
    """The executor's ID. Its key stays in the executor worker (stored there, encrypted, so a
    reload is the same executor): the page never holds it."""

    kind: ClassVar[str] = "identity"
    executorid: str
    error: str = ""  # why a stored key was replaced


@dataclass(frozen=True)
class FunctionsChanged(Event):
    """The Functions panel's code was applied (or refused with `error`, and nothing changed)."""

    kind: ClassVar[str] = "functions"
    functions: list[str] = field(default_factory=list)  # everything the slots now offer
    panel: list[str] = field(default_factory=list)  # of which the panel's code added these
    added: list[str] = field(default_factory=list)  # told to the colony now (add_function)
    removed: list[str] = field(default_factory=list)  # taken back (remove_function)
    error: str = ""


@dataclass(frozen=True)
class PollMode(Event):
    """How the executor asks for work now: "long" (a long-poll held open) or "short" (hidden: it
    asks without waiting, now and then; engine/poll.py)."""

    kind: ClassVar[str] = "pollmode"
    mode: str = "long"


@dataclass(frozen=True)
class ServerInUse(Event):
    """Given several servers (replicas' URLs): the one the executor talks to now (servers.py)."""

    kind: ClassVar[str] = "server"
    url: str
    servers: int


@dataclass(frozen=True)
class Farewell(Event):
    """A signed request the page sends (`navigator.sendBeacon`) when it goes away or is frozen,
    so that the processes this executor holds go back to the queue at once and run elsewhere:
    `url` "" when there is none (engine/farewell.py says when)."""

    kind: ClassVar[str] = "farewell"
    url: str = ""
    body: str = ""
    says_why: bool = False  # the page may add `?why=closed|frozen` (a leave to the admission service)


def to_message(event: Event) -> dict[str, Any]:
    """The plain object the page receives for `event`."""
    message: dict[str, Any] = {"type": event.kind}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        message[f.name] = str(value) if isinstance(value, StrEnum) else value
    if isinstance(event, ProcessStarted):
        message["status"] = event.status
    return message


def describe(event: Event) -> str | None:
    """The terminal's line for `event` (None: nothing to print). The caller makes it safe to print."""
    if isinstance(event, StateChanged):
        return f"[{event.state}]" + (f": {event.detail}" if event.detail else "")
    if isinstance(event, ProcessEnded):
        result = event.error if event.error else " ".join(event.output)
        return f"{event.status:>9} {event.funcname}({' '.join(event.args)}) -> {result}  [{event.millis} ms, slot {event.slot}]"
    if isinstance(event, LogLine):
        return f"  {event.message}"
    if isinstance(event, ServerInUse):
        return f"  using server {event.url} (of {event.servers})"
    if isinstance(event, Registered):
        return f"  registered with {event.slots} slot(s); functions: {', '.join(event.functions)}"
    return None


# ---------------------------------------------------------------- commands: page -> executor worker


@dataclass(frozen=True)
class Start:
    """Start serving: the page's form. Every field is `ExecutorConfig`'s of the same name, except
    the slot pool's three (`PAGE_ONLY`); the executor's own key is the worker's. Made from what a
    page sent, it is clean: text trimmed, an empty colony key None, whole numbers, consent only
    when it is a real `true` (`CommandError` otherwise)."""

    server_url: str
    colonyname: str
    executorname: str
    executortype: str
    colony_prvkey: str | None = None
    slots: int = 1
    slot_memory_mib: int = 0  # memory one slot offers a process (0: the device's share; resources.py)
    allow_code: bool = False  # the owner's consent to run Python code sent by the colony
    package_index: str = ""  # the owner's package index for shipped code's `requires` (optional)
    pyodide_distribution: str = ""  # the owner's mirror of a Pyodide release (its lock and wheels), for `requires`
    admission_url: str = ""  # from a join link: join through the admission service with this invite
    invite: str = ""
    locationname: str = ""

    PAGE_ONLY: ClassVar[tuple[str, ...]] = ("slots", "package_index", "pyodide_distribution")  # the slots' settings

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type == "str" and not isinstance(value, str):
                object.__setattr__(self, f.name, "" if value is None else str(value))
            if isinstance(getattr(self, f.name), str):
                object.__setattr__(self, f.name, getattr(self, f.name).strip())
        object.__setattr__(self, "colony_prvkey", str(self.colony_prvkey).strip() if self.colony_prvkey else None)
        try:
            object.__setattr__(self, "slots", max(1, int(self.slots or 1)))
            object.__setattr__(self, "slot_memory_mib", max(0, int(self.slot_memory_mib or 0)))
        except (TypeError, ValueError):
            raise CommandError(f"start: slots and memory per slot are whole numbers, got {self.slots!r}, "
                               f"{self.slot_memory_mib!r}") from None
        object.__setattr__(self, "allow_code", self.allow_code is True)  # consent is explicit: only a real true counts


@dataclass(frozen=True)
class Functions:
    """Serve this code (the Functions panel: `@registry.register` functions) from now on."""

    source: str = ""


@dataclass(frozen=True)
class Stop:
    """Stop taking work; with `now`, also interrupt what runs and fail it."""

    now: bool = False


@dataclass(frozen=True)
class Identity:
    """Load the stored key (or make one). `prvkey`: a key an older page kept in localStorage,
    moved into the worker's store when it has none yet."""

    prvkey: str | None = None


@dataclass(frozen=True)
class Visibility:
    """The page was hidden (another tab in front, the window minimised) or shown again: a hidden
    page may be frozen by the browser at any moment, so its executor holds no long-poll open
    (engine/poll.py)."""

    hidden: bool = False


@dataclass(frozen=True)
class Hold:
    """The owner paused serving (`held`) or resumed it: a held executor stays in the colony and
    runs what it has, but asks for no new work. `reason`: why, as the page shows it."""

    held: bool = True
    reason: str = ""


Command = Start | Stop | Identity | Functions | Visibility | Hold
_COMMANDS: dict[str, type[Start] | type[Stop] | type[Identity] | type[Functions] | type[Visibility] | type[Hold]] = {
    "start": Start, "stop": Stop, "identity": Identity, "functions": Functions, "visibility": Visibility, "hold": Hold,
}


class CommandError(ValueError):
    """A message from the page that is not a command we know, or lacks what it needs."""


def parse_command(message: dict[str, Any]) -> Command:
    kind = message.get("type")
    cls = _COMMANDS.get(str(kind))
    if cls is None:
        raise CommandError(f"unknown command {kind!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in message.items() if k in names}
    try:
        command = cls(**values)
    except TypeError as exc:
        raise CommandError(f"{kind}: {exc}") from None
    if isinstance(command, Hold):
        return Hold(values.get("held") is not False, str(values.get("reason") or ""))
    return command
