"""Stream items from one or several servers' copies of a channel: in sequence, once, up to the end."""

from __future__ import annotations

import asyncio
import base64
import json

from wasm_executor.client import ColoniesClient
from wasm_executor.objects import ChannelEntry
from wasm_executor.pool.streaming import Delivery, InOrder, listeners
from wasm_executor.remote import END


def item(seq: int, value: object = None) -> ChannelEntry:
    payload = base64.b64encode(json.dumps(seq if value is None else value).encode()).decode()
    return ChannelEntry(sequence=seq, payload=payload, type="data")


def queued(items: asyncio.Queue) -> list[object]:
    out = []
    while not items.empty():
        out.append(items.get_nowait()[1])
    return out


def test_entries_from_two_replicas_come_out_in_sequence_once() -> None:
    items: asyncio.Queue = asyncio.Queue()
    order = InOrder(items)
    assert order.take([item(1), item(2)])  # replica A
    assert order.take([item(4)])  # replica B, before 3
    assert queued(items) == [1, 2]
    assert order.take([item(2), item(3)])  # A again, after a resubscription: 2 is not passed twice
    assert queued(items) == [3, 4]
    assert order.take([ChannelEntry(sequence=6, type=END)])  # the end, with 5 not there yet
    assert order.take([item(5)]) is False and order.ended
    assert queued(items) == [5]


def test_a_gap_that_never_fills_stops_the_live_part_there() -> None:
    items: asyncio.Queue = asyncio.Queue()
    order = InOrder(items)
    order.take([item(1), item(3), item(4)])  # 2 went to a replica nobody listens on
    assert queued(items) == [1] and not order.ended  # 2, 3, 4 then come from the output


def test_one_url_listens_on_it_alone_several_on_each() -> None:
    one = ColoniesClient("http://lb:1")
    assert listeners(one) == [one]
    several = ColoniesClient("http://a:1, http://b:1")
    assert sorted(c.server_url for c in listeners(several)) == ["http://a:1", "http://b:1"]
    assert all(c.transport is several.transport for c in listeners(several))


def test_the_delivery_says_which_way_the_items_came() -> None:
    assert "all live" in str(Delivery("p", live=20))
    said = str(Delivery("p", live=3, at_end=17, servers=3))
    assert "3 item(s) live, 17 from the output" in said and "3 servers" in said
