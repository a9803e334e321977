"""Several server URLs: a client spreads over them, leaves one that fails and comes back to it."""

from __future__ import annotations

import pytest

from wasm_executor import servers as servers_module
from wasm_executor.client import ColoniesClient
from wasm_executor.envelope import build_reply
from wasm_executor.errors import ConnectionFailed, GatewayError
from wasm_executor.servers import Servers, split_urls
from wasm_executor.transport.base import Transport, WebSocket

A, B, C = "http://127.0.0.1:50090", "http://127.0.0.1:50091", "http://127.0.0.1:50092"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(servers_module.time, "monotonic", c)
    return c


def test_urls_come_as_text_or_list() -> None:
    assert split_urls(f"{A}/, {B}\n{C}") == [A, B, C]
    assert split_urls([A, f"{B},{C}"]) == [A, B, C]


def test_each_client_starts_at_a_random_one_and_keeps_the_order() -> None:
    starts = {Servers([A, B, C]).current() for _ in range(200)}
    assert starts == {A, B, C}
    s = Servers([A, B, C], shuffle=False)
    assert s.urls == [A, B, C] and s.current() == A


def test_a_failed_server_is_left_for_a_growing_cool_off_and_taken_back_when_it_answers(clock: Clock) -> None:
    s = Servers([A, B, C], shuffle=False)
    s.failed(A)
    assert s.current() == B
    clock.now += 1.01  # first cool-off: 1 s
    assert s.current() == A
    s.failed(A)  # still down: 2 s now
    clock.now += 1.5
    assert s.current() == B
    clock.now += 0.6
    assert s.current() == A
    s.answered(A)
    s.failed(A)
    assert s.current() == B  # after an answer the count starts again: 1 s
    clock.now += 1.01
    assert s.current() == A


def test_when_all_are_down_the_one_back_first_is_tried(clock: Clock) -> None:
    s = Servers([A, B], shuffle=False)
    s.failed(A)
    s.failed(A)  # A: 2 s
    s.failed(B)  # B: 1 s
    assert s.current() == B


class TwoDownTransport(Transport):
    """A answers nothing, B is a load balancer without servers, C answers."""

    def __init__(self) -> None:
        self.posted: list[str] = []

    async def post(self, url: str, body: str, timeout: float) -> tuple[int, str]:
        self.posted.append(url)
        if url.startswith(A):
            raise ConnectionFailed("connection refused")
        if url.startswith(B):
            return 503, "<html>No server is available to handle this request.</html>"
        return 200, build_reply("versionmsg", {"buildversion": "v1.9.12"})

    async def connect_ws(self, url: str, timeout: float) -> WebSocket:
        raise ConnectionFailed("no WebSockets here")


async def test_the_client_moves_on_after_a_failure_and_the_callers_retry_reaches_the_next() -> None:
    transport = TwoDownTransport()
    client = ColoniesClient(f"{A}, {B}, {C}", transport=transport)
    client.servers = Servers([A, B, C], shuffle=False)
    with pytest.raises(ConnectionFailed):
        await client.version()
    with pytest.raises(GatewayError):
        await client.version()
    assert (await client.version())["buildversion"] == "v1.9.12"
    assert await client.version()
    assert [u.rsplit("/", 1)[0] for u in transport.posted] == [A, B, C, C]
    assert client.server_url == C


def test_a_move_is_told_once_each_way(clock: Clock) -> None:
    s = Servers([A, B], shuffle=False)
    moves: list[tuple[str, str, bool]] = []
    s.on_move = lambda old, new, back: moves.append((old, new, back))
    s.failed(A)
    s.answered(B)
    s.answered(B)
    clock.now += 1.01
    s.answered(A)
    assert moves == [(A, B, False), (B, A, True)]


async def test_a_websocket_that_cannot_connect_moves_the_client_on_too() -> None:
    client = ColoniesClient(A, transport=TwoDownTransport())
    client.servers = Servers([A, B], shuffle=False)
    with pytest.raises(ConnectionFailed):
        await client.subscribe_channel("p", "stream", 0, 1, "k")
    assert client.server_url == B
