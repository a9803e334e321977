"""secp256k1 identities and signatures exactly as the ColonyOS server expects them.

Pure Python (the `ecdsa` package plus `hashlib.sha3_256`), so it runs unchanged in Pyodide.
Signatures are RFC 6979 deterministic, low-S, and carry a recovery byte v in {0, 1}: they are
byte-identical to the Go server's btcec `SignCompact` output (see tests/data/crypto-vectors.json).
"""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache

from ecdsa import SECP256k1
from ecdsa.ellipticcurve import Point, PointJacobi
from ecdsa.rfc6979 import generate_k

from .basepoint import mul_g

__all__ = ["CryptoError", "gen_hash", "gen_id", "gen_prvkey", "gen_signature", "recid"]

_CURVE = SECP256k1.curve
_G: PointJacobi = SECP256k1.generator
_N: int = SECP256k1.order
_P: int = _CURVE.p()
_HALF_N = _N // 2


class CryptoError(ValueError):
    """A key or signature that cannot be used; the message says why."""


def _prvkey_int(prvkey: str) -> int:
    if not isinstance(prvkey, str):
        raise CryptoError(f"private key must be a hex string, not {type(prvkey).__name__}")
    if len(prvkey) != 64:
        raise CryptoError(f"private key must be 64 hex characters, got {len(prvkey)}")
    try:
        d = int(prvkey, 16)
    except ValueError:
        raise CryptoError("private key is not hexadecimal") from None
    if not 1 <= d < _N:
        raise CryptoError("private key is out of range (must be 1 <= d < n)")
    return d


def gen_prvkey() -> str:
    """A new random private key: 64 lowercase hex characters."""
    return f"{secrets.randbelow(_N - 1) + 1:064x}"


def _pubkey_hex(x: int, y: int) -> str:
    return f"04{x:064x}{y:064x}"


def _id_from_pubkey_hex(pub_hex: str) -> str:
    # The ID hashes the 130-char hex TEXT of the uncompressed key, with FIPS SHA3-256.
    return hashlib.sha3_256(pub_hex.encode("ascii")).hexdigest()


@lru_cache(maxsize=256)
def gen_id(prvkey: str) -> str:
    """The ColonyOS ID of a private key. Cached: an executor derives its own ID once."""
    return _id_from_pubkey_hex(_pubkey_hex(*mul_g(_prvkey_int(prvkey))))


def gen_hash(message: str) -> str:
    """SHA3-256 of the UTF-8 message, as hex."""
    return hashlib.sha3_256(message.encode("utf-8")).hexdigest()


def gen_signature(message: str, prvkey: str) -> str:
    """Sign sha3_256(message): hex of r32 || s32 || v1 (130 characters)."""
    d = _prvkey_int(prvkey)
    digest = hashlib.sha3_256(message.encode("utf-8")).digest()
    e = int.from_bytes(digest, "big")
    retry = 0
    while True:
        k = generate_k(_N, d, hashlib.sha256, digest, retry_gen=retry)
        rx, ry = mul_g(k)
        r = rx % _N
        s = pow(k, -1, _N) * (e + r * d) % _N
        if r and s:
            break
        retry += 1  # astronomically rare; RFC 6979 says draw the next k
    v = (ry & 1) | (2 if rx >= _N else 0)
    if s > _HALF_N:  # the server rejects high-S: use the twin (n - s) and flip the parity bit
        s = _N - s
        v ^= 1
    return f"{r:064x}{s:064x}{v:02x}"


def recid(message: str, signature: str) -> str:
    """The ID of the key that signed `message`, recovered as the server does it."""
    if not isinstance(signature, str) or len(signature) != 130:
        raise CryptoError("Invalid signature length: expected 130 hex characters (r32 || s32 || v1)")
    try:
        raw = bytes.fromhex(signature)
    except ValueError:
        raise CryptoError("signature is not hexadecimal") from None
    r = int.from_bytes(raw[:32], "big")
    s = int.from_bytes(raw[32:64], "big")
    v = raw[64]
    if v > 3:
        raise CryptoError(f"invalid recovery code {v} (expected 0 or 1)")
    if not (1 <= r < _N and 1 <= s < _N):
        raise CryptoError("signature r or s is out of range")
    if s > _HALF_N:
        raise CryptoError("Signature s value is over half the order (high-S signatures are rejected)")
    x = r + (_N if v & 2 else 0)
    if x >= _P:
        raise CryptoError("signature r does not name a curve point")
    alpha = (pow(x, 3, _P) + 7) % _P
    y = pow(alpha, (_P + 1) // 4, _P)
    if y * y % _P != alpha:
        raise CryptoError("signature r does not name a curve point")
    if (y & 1) != (v & 1):
        y = _P - y
    big_r = PointJacobi.from_affine(Point(_CURVE, x, y))
    e = int.from_bytes(hashlib.sha3_256(message.encode("utf-8")).digest(), "big") % _N
    r_inv = pow(r, -1, _N)
    q = big_r * (s * r_inv % _N) + _G * ((-e * r_inv) % _N)
    return _id_from_pubkey_hex(_pubkey_hex(q.x(), q.y()))
