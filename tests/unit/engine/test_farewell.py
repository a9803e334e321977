"""What a page sends as it goes away (`engine/farewell`): signed beforehand, by the key that may
remove the executor, for this executor only."""

from __future__ import annotations

import json

from wasm_executor import ColoniesClient, gen_id, gen_prvkey
from wasm_executor.crypto import recid
from wasm_executor.engine.config import ExecutorConfig, Session
from wasm_executor.engine.farewell import farewell_for
from wasm_executor.envelope import decode_b64_json
from wasm_executor.joining import LEAVE_FIELDS, signed_text
from wasm_executor.transport.mock import MockTransport


def session_of(config: ExecutorConfig) -> Session:
    return Session.of(config, ColoniesClient(config.server_url, transport=MockTransport(lambda request: None)))


def config(**fields: object) -> ExecutorConfig:
    values = {"server_url": "http://127.0.0.1:50080", "colonyname": "dev", "executorname": "tab-1", "prvkey": gen_prvkey()}
    return ExecutorConfig(**{**values, **fields})  # type: ignore[arg-type]


def test_with_the_colony_key_it_is_a_removeexecutor_signed_by_the_colony_owner() -> None:
    colony_key = gen_prvkey()
    cfg = config(colony_prvkey=colony_key)
    farewell = farewell_for(cfg, session_of(cfg))
    assert farewell.url == "http://127.0.0.1:50080/api"
    envelope = json.loads(farewell.body)
    assert envelope["payloadtype"] == "removeexecutormsg"
    assert decode_b64_json(envelope["payload"]) == {"msgtype": "removeexecutormsg", "colonyname": "dev", "executorname": "tab-1"}
    assert recid(envelope["payload"], envelope["signature"]) == gen_id(colony_key)


def test_joined_by_invite_it_is_a_leave_signed_by_the_executor_for_this_admission() -> None:
    cfg = config(admission_url="http://127.0.0.1:50081/", invite="abcd.secret")
    farewell = farewell_for(cfg, session_of(cfg), admitted_at="1796000000.25")
    assert farewell.url == "http://127.0.0.1:50081/leave"
    body = json.loads(farewell.body)
    assert body["leave"] == {"colonyname": "dev", "executorid": gen_id(cfg.prvkey), "executorname": "tab-1",
                             "admitted_at": "1796000000.25"}
    assert recid(signed_text(body["leave"], LEAVE_FIELDS), body["signature"]) == gen_id(cfg.prvkey)
    assert "secret" not in farewell.body


def test_without_a_key_to_sign_it_or_an_admission_there_is_none() -> None:
    cfg = config()
    assert farewell_for(cfg, session_of(cfg)).url == ""
    invited = config(admission_url="http://127.0.0.1:50081", invite="abcd.secret")
    assert farewell_for(invited, session_of(invited), admitted_at="").url == ""  # in already, no join this time
