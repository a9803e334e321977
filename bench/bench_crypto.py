"""Signing and key recovery in CPython, against the ecdsa library's own calls in the same run.

The reference does less (no recovery byte, no ID): the ratio is the price of producing exactly
what the ColonyOS server needs.
"""

from __future__ import annotations

import hashlib

from common import per_call, report
from ecdsa import SECP256k1, SigningKey
from ecdsa.util import sigencode_string_canonize

from wasm_executor.crypto import gen_id, gen_prvkey, gen_signature, recid

KEY = "fcc79953d8a751bf41db661592dc34d30004b1a651ffa0725b03ac227641499d"
MESSAGE = "eyJjb2xvbnluYW1lIjoiZGV2IiwibXNndHlwZSI6ImdldGNvbG9ueW1zZyJ9"


def main() -> None:
    sk = SigningKey.from_string(bytes.fromhex(KEY), curve=SECP256k1)
    digest = hashlib.sha3_256(MESSAGE.encode()).digest()
    signature = gen_signature(MESSAGE, KEY)
    vk = sk.get_verifying_key()

    ref_sign = per_call(lambda: sk.sign_digest_deterministic(digest, hashfunc=hashlib.sha256, sigencode=sigencode_string_canonize), 500)
    ours_sign = per_call(lambda: gen_signature(MESSAGE, KEY), 500)
    ref_recover = per_call(
        lambda: vk.from_public_key_recovery_with_digest(bytes.fromhex(signature[:128]), digest, SECP256k1), 200
    )
    ours_recover = per_call(lambda: recid(MESSAGE, signature), 200)
    ref_verify = per_call(lambda: vk.verify_digest(bytes.fromhex(signature[:128]), digest), 200)
    fresh = [gen_prvkey() for _ in range(100)]
    it = iter(fresh)
    ours_id_cold = per_call(lambda: gen_id(next(it)), 100)
    ours_id_warm = per_call(lambda: gen_id(KEY), 2000)
    report(
        "crypto (CPython, pure-Python ecdsa)",
        [
            ("gen_signature (RFC 6979, low-S, v)", ours_sign, ref_sign, "ecdsa sign_digest_deterministic"),
            ("recid (recover signer ID)", ours_recover, ref_recover, "ecdsa public key recovery (2 keys)"),
            ("recid", ours_recover, ref_verify, "ecdsa verify_digest"),
            ("gen_id, new key", ours_id_cold, ours_sign, "one gen_signature"),
            ("gen_id, the executor's own key (cached)", ours_id_warm, ours_sign, "one gen_signature"),
        ],
    )


if __name__ == "__main__":
    main()
