"""Waits on the mock transport: by reads only, never the server's per-process subscription.

colonies v1.9.12 can panic on `subscribeprocessmsg` (see `ColoniesClient.subscribe_process`), so
a wait must not send it, and must still see an end whenever it comes: before the wait, during
its first read, or much later.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from tests.helpers.fake_colony import FakeColony
from wasm_executor import CANCELLED, FAILED, RUNNING, SUCCESS, ColoniesClient, RequestTimeout, gen_id, gen_prvkey
from wasm_executor import client as client_module
from wasm_executor.client import wait_periods
from wasm_executor.transport.mock import MockTransport, Request

KEY = gen_prvkey()


def _client(server: FakeColony) -> ColoniesClient:
    server.approve("me", gen_id(KEY), "wasm")
    return ColoniesClient("http://fake", transport=MockTransport(server.handle, server.subscribe))


async def _end_after_reads(server: FakeColony, processid: str, reads: int, state: int) -> None:
    await server.wait_until(lambda: server.calls.count("getprocessmsg") >= reads)
    server.processes[processid].state = state
    if state == SUCCESS:
        server.processes[processid].output = ["done"]


@pytest.mark.parametrize("end_as", [SUCCESS, FAILED, CANCELLED])
async def test_wait_for_end_sees_a_later_end_without_subscribing(end_as: int) -> None:
    server = FakeColony()
    client = _client(server)
    process = server.submit("echo", "x")
    server.processes[process.processid].state = RUNNING
    ender = asyncio.ensure_future(_end_after_reads(server, process.processid, 3, end_as))
    ended = await asyncio.wait_for(client.wait_for_end(process, 30, KEY), 5.0)
    await ender
    assert ended.state == end_as
    assert "subscribeprocessmsg" not in server.calls


async def test_subscribe_process_returns_the_process_read_whole_and_sends_no_subscription() -> None:
    server = FakeColony()
    client = _client(server)
    process = server.submit("echo", "x")
    ender = asyncio.ensure_future(_end_after_reads(server, process.processid, 2, SUCCESS))
    ended = await asyncio.wait_for(client.subscribe_process(process, SUCCESS, 30, KEY), 5.0)
    await ender
    assert ended.state == SUCCESS and ended.output == ["done"]
    assert "subscribeprocessmsg" not in server.calls


async def test_wait_for_end_of_a_process_that_ended_before_is_one_read() -> None:
    server = FakeColony()
    client = _client(server)
    process = server.submit("echo", "x")
    server.processes[process.processid].state = FAILED
    server.processes[process.processid].errors = ["no"]
    ended = await client.wait_for_end(process, 30, KEY)
    assert ended.state == FAILED
    assert server.calls.count("getprocessmsg") == 1


async def test_wait_for_end_times_out_with_request_timeout() -> None:
    server = FakeColony()
    client = _client(server)
    process = server.submit("echo", "x")
    with pytest.raises(RequestTimeout):
        await client.wait_for_end(process, 1, KEY)


def test_the_pauses_between_reads_start_short_and_grow_to_the_cap() -> None:
    pauses = list(itertools.islice(wait_periods(2.0), 40))
    assert pauses[0] == client_module.WAIT_FIRST_PERIOD
    assert all(b >= a for a, b in itertools.pairwise(pauses))
    assert pauses[-1] == 2.0 and max(pauses) == 2.0
    # an end is seen within half the time the wait had lasted (+ the first pause): each pause at most that
    waited = 0.0
    for pause in pauses:
        assert pause <= 0.5 * waited + client_module.WAIT_FIRST_PERIOD + 1e-9
        waited += pause
    # and a long wait costs about one read per cap: 60 s of waiting take fewer than 50 reads
    assert sum(1 for _ in itertools.takewhile(lambda t: t < 60, itertools.accumulate(wait_periods(2.0)))) < 50


async def test_a_wait_with_no_websocket_at_all_works() -> None:
    server = FakeColony()
    server.approve("me", gen_id(KEY), "wasm")
    client = ColoniesClient("http://fake", transport=MockTransport(server.handle))  # no WebSocket at all
    process = server.submit("echo", "x")
    server.processes[process.processid].state = RUNNING
    ender = asyncio.ensure_future(_end_after_reads(server, process.processid, 2, SUCCESS))
    ended = await asyncio.wait_for(client.wait_for_end(process, 30, KEY), 5.0)
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
