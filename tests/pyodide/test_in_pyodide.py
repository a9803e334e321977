"""The SDK inside Pyodide (Node and Chromium): the crypto vectors and a real round trip.

The round trip signs with pure-Python ecdsa inside WebAssembly, talks to the real server through
JS fetch and WebSocket (the Pyodide transport), and checks the server's view of the result.
"""

from __future__ import annotations

import json
from pathlib import Path

from pytest_pyodide import run_in_pyodide

VECTORS = json.loads((Path(__file__).parents[1] / "data" / "crypto-vectors.json").read_text())


@run_in_pyodide(packages=["wasm-executor", "pytest"])
def check_crypto_vectors_in_pyodide(selenium, vectors: dict) -> None:
    import pytest

    from wasm_executor.crypto import CryptoError, gen_hash, gen_id, gen_signature, recid

    for key in vectors["keys"]:
        assert gen_id(key["prvkey"]) == key["id"]
    for case in vectors["signatures"]:
        assert gen_hash(case["message"]) == case["digest"]
        assert gen_signature(case["message"], case["prvkey"]) == case["signature"]
        assert recid(case["message"], case["signature"]) == case["id"]
    for case in vectors["must_reject"]:
        with pytest.raises(CryptoError, match=case["python_error"]):
            recid(case["message"], case["signature"])


def test_crypto_vectors(selenium) -> None:
    check_crypto_vectors_in_pyodide(selenium, VECTORS)


@run_in_pyodide(packages=["wasm-executor"])
async def round_trip_in_pyodide(selenium, url: str, colonyname: str, colony_key: str, user_key: str) -> None:
    import asyncio
    import secrets

    from wasm_executor import SUCCESS, ColoniesClient, Executor, FunctionSpec, gen_id, gen_prvkey
    from wasm_executor.transport.pyodide import PyodideTransport

    client = ColoniesClient(url)
    assert isinstance(client.transport, PyodideTransport)
    key = gen_prvkey()
    name = f"pyodide-{secrets.token_hex(4)}"
    executortype = f"pyodidetype-{secrets.token_hex(4)}"
    await client.add_executor(Executor.new(name, gen_id(key), executortype, colonyname), colony_key)
    await client.approve_executor(colonyname, name, colony_key)
    try:
        assert await client.assign(colonyname, 1, key) is None  # empty long-poll through fetch
        spec = FunctionSpec.new("add", executortype, colonyname)
        spec.args = ["5", "3"]
        spec.channels = ["progress"]
        submitted = await client.submit(spec, user_key)
        waiter = asyncio.ensure_future(client.subscribe_process(submitted, SUCCESS, 20, user_key))  # reads via fetch
        process = await client.assign(colonyname, 5, key)
        assert process is not None and process.processid == submitted.processid
        assert process.spec.args == ["5", "3"]
        # A channel over WebSocket too: the submitter streams what the executor appends.
        stream = asyncio.ensure_future(client.subscribe_channel(process.processid, "progress", 0, 10, user_key))
        await asyncio.sleep(0.5)
        await client.channel_append(process.processid, "progress", 1, "half way", "", 0, key)
        await client.channel_append(process.processid, "progress", 2, "", "end", 0, key)
        entries = await asyncio.wait_for(stream, 15)
        assert [e.payload_as_string() for e in entries] == ["half way", ""] and entries[-1].type == "end"
        await client.close(process.processid, key, [8])
        finished = await asyncio.wait_for(waiter, 20)
        assert finished.state == SUCCESS and finished.output == [8]
    finally:
        await client.remove_executor(colonyname, name, colony_key)


def test_assign_close_round_trip_against_the_real_server(selenium, colony) -> None:
    round_trip_in_pyodide(selenium, colony.url, colony.name, colony.colony_prvkey, colony.user_prvkey)
