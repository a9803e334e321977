"""Building signed envelopes and mapping replies, without a server (captured replies)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from wasm_executor.crypto import gen_id, recid
from wasm_executor.envelope import build_error_reply, build_request, encode_payload, parse_reply
from wasm_executor.errors import (
    ConnectionFailed,
    GatewayError,
    ProtocolError,
    RequestTimeout,
    RPCError,
    ServerError,
    TransportError,
)

DATA = Path(__file__).parents[1] / "data"
VECTORS = json.loads((DATA / "crypto-vectors.json").read_text())
KEY = VECTORS["keys"][0]["prvkey"]


def reply(payloadtype: str, payload: object, error: bool = False) -> str:
    b64 = base64.b64encode(json.dumps(payload).encode()).decode()
    return json.dumps({"payloadtype": payloadtype, "payload": b64, "error": error})


def test_go_marshalled_payload_matches_the_vector() -> None:
    # The server-side vector is Go's json.Marshal of {"colonyname":"dev","msgtype":"getcolonymsg"}.
    vec = next(v for v in VECTORS["signatures"] if "Go-marshalled" in v["note"] and v["prvkey"] == KEY)
    decoded = json.loads(base64.b64decode(vec["message"]))
    assert json.loads(base64.b64decode(encode_payload("getcolonymsg", {"colonyname": "dev"}))) == decoded


def test_request_is_signed_over_the_base64_string() -> None:
    body = json.loads(build_request("getcolonymsg", {"colonyname": "dev"}, KEY))
    assert body["payloadtype"] == "getcolonymsg"
    payload = json.loads(base64.b64decode(body["payload"], validate=True))
    assert payload == {"colonyname": "dev", "msgtype": "getcolonymsg"}
    assert recid(body["payload"], body["signature"]) == gen_id(KEY)


def test_msgtype_in_payload_always_matches() -> None:
    body = json.loads(build_request("assignprocessmsg", {"msgtype": "wrong", "timeout": 5}, KEY))
    assert json.loads(base64.b64decode(body["payload"]))["msgtype"] == "assignprocessmsg"


def test_non_ascii_payload_round_trips() -> None:
    body = json.loads(build_request("addlogmsg", {"message": "héllo ✓"}, KEY))
    assert json.loads(base64.b64decode(body["payload"]))["message"] == "héllo ✓"


def test_unsigned_only_for_version_and_serverinfo() -> None:
    assert json.loads(build_request("versionmsg", {}, None))["signature"] == ""
    with pytest.raises(ValueError, match="must be signed"):
        build_request("getcolonymsg", {"colonyname": "dev"}, None)


def test_reply_payload_is_decoded() -> None:
    assert parse_reply(200, reply("getcolonymsg", {"colonyid": "x", "name": "dev"})) == {"colonyid": "x", "name": "dev"}


def test_empty_reply_is_none() -> None:
    assert parse_reply(200, "{}") is None
    assert parse_reply(200, "") is None


def test_captured_error_reply_becomes_server_error() -> None:
    captured = json.loads((DATA / "captured" / "error_reply.json").read_text())
    with pytest.raises(ServerError) as info:
        parse_reply(captured["status"], captured["body"])
    assert info.value.status == 404
    assert info.value.message == "Failed to get process, process not found"
    assert not info.value.conn_err()


def test_error_status_comes_from_the_payload() -> None:
    with pytest.raises(ServerError) as info:
        parse_reply(403, reply("error", {"status": 403, "message": "Access denied, not colony owner"}, error=True))
    assert (info.value.status, info.value.message) == (403, "Access denied, not colony owner")


def test_non_json_error_body() -> None:
    with pytest.raises(ServerError) as info:
        parse_reply(500, "Internal Server Error")
    assert info.value.status == 500 and "Internal Server Error" in info.value.message


HAPROXY_503 = "<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>"


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_load_balancer_without_a_server_is_trouble_on_the_way_not_an_answer(status: int) -> None:
    with pytest.raises(GatewayError) as info:
        parse_reply(status, HAPROXY_503)
    assert isinstance(info.value, TransportError) and info.value.conn_err() and info.value.status == status
    assert "No server is available" in info.value.message


def test_the_servers_own_503_stays_its_answer() -> None:
    body = build_error_reply(503, "Colony assignments are paused")
    with pytest.raises(ServerError) as info:
        parse_reply(503, body)
    assert info.value.paused and not isinstance(info.value, TransportError)


@pytest.mark.parametrize("body", ["not json", "[1,2]", '{"payload": "%%%"}'])
def test_garbage_is_a_protocol_error(body: str) -> None:
    with pytest.raises(ProtocolError):
        parse_reply(200, body)


def test_the_three_failures_are_three_types() -> None:
    kinds = [ConnectionFailed("x"), RequestTimeout("x"), ServerError("x", 500)]
    assert len({type(k) for k in kinds}) == 3
    assert all(isinstance(k, RPCError) for k in kinds)
    assert [k.conn_err() for k in kinds] == [True, True, False]


def test_two_error_envelopes_in_one_reply_give_the_first_ones_message() -> None:
    # What v1.9.12 answers to a log line PostgreSQL refuses: two envelopes back to back.
    first = build_error_reply(400, 'pq: invalid byte sequence for encoding "UTF8": 0x00')
    with pytest.raises(ServerError) as caught:
        parse_reply(400, first + build_error_reply(500, "same again"))
    assert (caught.value.message, caught.value.status) == ('pq: invalid byte sequence for encoding "UTF8": 0x00', 400)
