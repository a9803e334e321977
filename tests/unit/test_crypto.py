"""The crypto vectors (byte-identical to the Go server's output), and clear errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wasm_executor.crypto import CryptoError, gen_hash, gen_id, gen_prvkey, gen_signature, recid

VECTORS = json.loads((Path(__file__).parents[1] / "data" / "crypto-vectors.json").read_text())


@pytest.mark.parametrize("case", VECTORS["keys"], ids=lambda c: c["note"][:40])
def test_id_from_key(case: dict[str, str]) -> None:
    assert gen_id(case["prvkey"]) == case["id"]


@pytest.mark.parametrize("case", VECTORS["signatures"], ids=lambda c: f"{c['id'][:6]}-{c['note'][:30]}")
def test_signature_is_byte_identical(case: dict[str, str]) -> None:
    assert gen_hash(case["message"]) == case["digest"]
    assert gen_signature(case["message"], case["prvkey"]) == case["signature"]
    assert recid(case["message"], case["signature"]) == case["id"]


@pytest.mark.parametrize("case", VECTORS["recovery_only"], ids=lambda c: c["note"][:40])
def test_recovers_a_foreign_nonce_signature(case: dict[str, str]) -> None:
    assert recid(case["message"], case["signature"]) == case["id"]


@pytest.mark.parametrize("case", VECTORS["must_reject"], ids=lambda c: c["note"][:40])
def test_rejects_what_the_server_rejects(case: dict[str, str]) -> None:
    with pytest.raises(CryptoError, match=case["python_error"]):
        recid(case["message"], case["signature"])


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("ab" * 31, "64 hex characters"),
        ("zz" * 32, "not hexadecimal"),
        ("00" * 32, "out of range"),
        ("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", "out of range"),
        ("ff" * 32, "out of range"),
    ],
)
def test_invalid_keys_never_sign(key: str, why: str) -> None:
    with pytest.raises(CryptoError, match=why):
        gen_signature("hello", key)
    with pytest.raises(CryptoError, match=why):
        gen_id(key)


def test_not_a_string_key() -> None:
    with pytest.raises(CryptoError, match="hex string"):
        gen_id(12345)  # type: ignore[arg-type]


def test_new_keys_sign_and_recover() -> None:
    keys = {gen_prvkey() for _ in range(5)}
    assert len(keys) == 5
    for key in keys:
        assert len(key) == 64 and key == key.lower()
        sig = gen_signature("round trip", key)
        assert len(sig) == 130 and sig[-2:] in ("00", "01")
        assert int(sig[64:128], 16) <= 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0  # low-S
        assert recid("round trip", sig) == gen_id(key)


def test_a_tampered_message_recovers_another_id() -> None:
    key = VECTORS["keys"][0]["prvkey"]
    sig = gen_signature("pay 1", key)
    assert recid("pay 2", sig) != gen_id(key)
