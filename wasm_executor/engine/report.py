"""What the executor reports: its state (told once per change) and its events, through one sink."""

from __future__ import annotations

import time
from collections.abc import Callable

from ..errors import TransportError
from ..events import Event, LogLine, ServerInUse, State, StateChanged
from ..servers import Servers

EventSink = Callable[[Event], None]


class Reporter:
    def __init__(self, sink: EventSink | None, executorid: str) -> None:
        self._sink = sink or (lambda _event: None)
        self.executorid = executorid
        self.state = State.STOPPED
        self.detail = ""
        self.on_state: Callable[[], None] = lambda: None  # after every change of state
        self._unreachable_since: float | None = None  # an outage, in the log when it starts and ends
        self._servers = 1

    def emit(self, event: Event) -> None:
        self._sink(event)

    def log(self, message: str) -> None:
        self.emit(LogLine(message))

    def set_state(self, state: State, detail: str = "") -> None:
        if (state, detail) == (self.state, self.detail):
            return  # a new long-poll is no news
        self.state, self.detail = state, detail
        self.emit(StateChanged(state, detail, self.executorid))
        self.on_state()

    def say_unreachable(self, state: State) -> Callable[[BaseException, float], None]:
        """An `on_retry` for `Retry`: the state, with why and when the next try comes."""

        def on_retry(exc: BaseException, delay: float) -> None:
            if isinstance(exc, TransportError):
                if self._unreachable_since is None:
                    self._unreachable_since = time.monotonic()
                    self.log(f"server unreachable ({exc}); retrying")
                self.set_state(state, f"server unreachable ({exc}); retrying in {delay:g} s")
            else:
                self.set_state(state, f"the server answered {exc}; retrying in {delay:g} s")

        return on_retry

    def reachable(self) -> None:
        """The server answered: an outage the log told of is over."""
        if self._unreachable_since is not None:
            self.log(f"the server answers again, after {time.monotonic() - self._unreachable_since:.1f} s")
            self._unreachable_since = None

    def follow(self, servers: Servers) -> None:
        """Several servers: tell which one is in use, now and whenever the client moves."""
        self._servers = len(servers.urls)
        servers.on_move = self.server_moved
        if servers.several:
            self.emit(ServerInUse(servers.current(), self._servers))

    def server_moved(self, old: str, new: str, back: bool) -> None:
        """The client went from one replica to another (see servers.Servers)."""
        self.log(f"back to server {new}: it answers again" if back else f"server {old} did not answer: now using {new}")
        self.emit(ServerInUse(new, self._servers))
