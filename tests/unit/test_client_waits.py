"""Waits on the mock transport: no wake-up is lost, whenever the process gets to its state.

The server answers a subscription by reading the process, then registering the subscriber
(colonies v1.9.12 `SubscribeProcess` → `AddProcessSubscriber`): a process that ends between the
two is never signalled. `RacingServer` does exactly that, and the waits must still return.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.helpers.fake_colony import FakeColony
from wasm_executor import CANCELLED, FAILED, RUNNING, SUCCESS, ColoniesClient, RequestTimeout, gen_id, gen_prvkey
from wasm_executor import client as client_module
from wasm_executor.transport.mock import MockTransport, Request

KEY = gen_prvkey()


class RacingServer(FakeColony):
    """A fake colony whose subscriptions read the state, let the process end, then register."""

    end_as: int = SUCCESS  # what the process becomes inside the window

    async def subscribe(self, request: Request) -> AsyncIterator[Any]:
        body = request.payload
        p = self.processes[body["processid"]]
        seen = p.state  # the server's read
        p.state = self.end_as  # ... the process ends right here ...
        if p.state == SUCCESS:
            p.output = ["done"]
        await asyncio.sleep(0)  # ... and the subscriber is registered only now: that end is never signalled
        if seen == body["state"]:
            yield p.to_dict()
            return
        await asyncio.Event().wait()  # no later change comes


def _client(server: FakeColony) -> ColoniesClient:
    server.approve("me", gen_id(KEY), "wasm")
    return ColoniesClient("http://fake", transport=MockTransport(server.handle, server.subscribe))


@pytest.mark.parametrize("end_as", [SUCCESS, FAILED, CANCELLED])
async def test_wait_for_end_sees_an_end_between_the_servers_read_and_its_subscribe(end_as: int) -> None:
    server = RacingServer()
    server.end_as = end_as
    client = _client(server)
    process = server.submit("echo", "x")
    loop = asyncio.get_running_loop()
    started = loop.time()
    ended = await client.wait_for_end(process, 30, KEY)
    assert ended.state == end_as
    assert loop.time() - started < 1.0


async def test_subscribe_process_sees_the_state_reached_during_set_up() -> None:
    server = RacingServer()
    client = _client(server)
    process = server.submit("echo", "x")
    ended = await asyncio.wait_for(client.wait_for_end(process, 30, KEY), 1.0)
    assert ended.state == SUCCESS and ended.output == ["done"]  # re-read whole, with its output


async def test_wait_for_end_returns_at_once_for_a_process_that_ended_before() -> None:
    server = FakeColony()
    client = _client(server)
    process = server.submit("echo", "x")
    server.processes[process.processid].state = FAILED
    ended = await asyncio.wait_for(client.wait_for_end(process, 30, KEY), 1.0)
    assert ended.state == FAILED


async def test_wait_for_end_is_woken_by_the_subscription_for_a_later_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "WAIT_FIRST_PERIOD", 60.0)  # no re-read comes in time: only the subscription can wake it
    server = FakeColony()
    client = _client(server)
    process = server.submit("echo", "x")
    server.processes[process.processid].state = RUNNING
    waiter = asyncio.ensure_future(client.wait_for_end(process, 120, KEY))
    await server.wait_until(lambda: server.calls.count("getprocessmsg") >= 1)
    server.processes[process.processid].state = FAILED
    server._changed()
    ended = await asyncio.wait_for(waiter, 1.0)
    assert ended.state == FAILED


async def test_wait_for_end_times_out_with_request_timeout() -> None:
    server = FakeColony()
    client = _client(server)
    process = server.submit("echo", "x")
    with pytest.raises(RequestTimeout):
        await client.wait_for_end(process, 1, KEY)


async def test_a_failing_subscription_does_not_stop_the_wait() -> None:
    server = FakeColony()
    server.approve("me", gen_id(KEY), "wasm")
    client = ColoniesClient("http://fake", transport=MockTransport(server.handle))  # no WebSocket at all
    process = server.submit("echo", "x")
    server.processes[process.processid].state = RUNNING

    async def end_soon() -> None:
        await server.wait_until(lambda: server.calls.count("getprocessmsg") >= 2)
        server.processes[process.processid].state = SUCCESS

    ender = asyncio.ensure_future(end_soon())
    ended = await asyncio.wait_for(client.wait_for_end(process, 30, KEY), 2.0)
    await ender
    assert ended.state == SUCCESS


class TwoStepFailure(FakeColony):
    """The server's MarkFailed: the FAILED state is stored first, its errors a statement later."""

    reads_before_errors = 2

    async def handle(self, request: Request) -> Any:
        reply = await super().handle(request)
        if request.msgtype == "getprocessmsg" and reply.get("state") == FAILED and self.reads_before_errors > 0:
            self.reads_before_errors -= 1
            return {**reply, "errors": []}
        return reply


async def test_a_failure_read_before_its_errors_are_stored_is_read_again() -> None:
    server = TwoStepFailure()
    client = _client(server)
    process = server.submit("echo", "x")
    server.processes[process.processid].state = FAILED
    server.processes[process.processid].errors = ["echo raised ValueError: no"]
    ended = await asyncio.wait_for(client.wait_for_end(process, 30, KEY), 1.0)
    assert (ended.state, ended.errors) == (FAILED, ["echo raised ValueError: no"])
