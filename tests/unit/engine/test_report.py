"""The reporter's log of an outage and of a move between replicas: one line each, not one per retry."""

from __future__ import annotations

from wasm_executor.engine.report import Reporter
from wasm_executor.errors import ConnectionFailed
from wasm_executor.events import Event, LogLine, ServerInUse, State, StateChanged
from wasm_executor.servers import Servers


def test_an_outage_is_logged_when_it_starts_and_when_it_ends() -> None:
    events: list[Event] = []
    report = Reporter(events.append, "ex")
    on_retry = report.say_unreachable(State.POLLING)
    for delay in (0.5, 1.0, 2.0):
        on_retry(ConnectionFailed("connection refused"), delay)
    report.reachable()
    report.reachable()  # no outage now: nothing to say
    lines = [e.message for e in events if isinstance(e, LogLine)]
    assert lines[0] == "server unreachable (connection refused); retrying"
    assert len(lines) == 2 and lines[1].startswith("the server answers again, after ")
    assert [e.detail for e in events if isinstance(e, StateChanged)][-1].endswith("retrying in 2 s")


def test_a_move_between_servers_says_which_and_why() -> None:
    events: list[Event] = []
    report = Reporter(events.append, "ex")
    report.server_moved("http://a", "http://b", False)
    report.server_moved("http://b", "http://a", True)
    assert [e.message for e in events if isinstance(e, LogLine)] == [
        "server http://a did not answer: now using http://b",
        "back to server http://a: it answers again",
    ]


def test_with_several_servers_the_one_in_use_is_told_at_once_and_on_each_move() -> None:
    events: list[Event] = []
    report = Reporter(events.append, "ex")
    servers = Servers(["http://a", "http://b"], shuffle=False)
    report.follow(servers)
    servers.failed("http://a")
    assert [e for e in events if isinstance(e, ServerInUse)] == [ServerInUse("http://a", 2), ServerInUse("http://b", 2)]
    events.clear()
    report.follow(Servers("http://lb"))
    assert events == []  # one URL (a server, or its balancer): nothing to tell
