"""Sans-IO envelope layer: build a signed request body, turn a reply body into a payload.

No networking here. Both functions are pure and are tested against the crypto vectors
and captured server replies without a server.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .crypto import gen_signature
from .errors import GatewayError, ProtocolError, ServerError

# What a proxy or load balancer answers when it has no server to pass a request to (haproxy's and
# nginx's pages are HTML): our transport's connection failure, one hop further.
GATEWAY_STATUSES = frozenset({502, 503, 504})

# The only messages the server accepts without a signature.
UNSIGNED = frozenset({"versionmsg", "getserverinfomsg"})


def encode_payload(msgtype: str, payload: dict[str, Any]) -> str:
    """Standard padded base64 of the payload JSON, which must carry its own msgtype."""
    return _b64_json({**payload, "msgtype": msgtype})


def build_request(msgtype: str, payload: dict[str, Any], prvkey: str | None) -> str:
    """The JSON text of a request envelope. The signature covers the base64 STRING itself."""
    b64 = encode_payload(msgtype, payload)
    if prvkey is None and msgtype not in UNSIGNED:
        raise ValueError(f"{msgtype} must be signed: pass a private key")
    signature = gen_signature(b64, prvkey) if prvkey is not None else ""
    return json.dumps({"payloadtype": msgtype, "payload": b64, "signature": signature})


def decode_b64_json(b64: str) -> Any:
    try:
        return json.loads(base64.b64decode(b64, validate=True).decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"reply payload is not base64 JSON: {exc}") from None


def parse_reply(status: int, body: str) -> Any:
    """The decoded payload of a reply; an error reply becomes a `ServerError`.

    An empty reply (`{}`, or no payload) decodes to ``None``.
    """
    try:
        # raw_decode: the server sometimes writes a second error envelope after the first
        # (v1.9.12, a log line PostgreSQL refused): the first one is the answer.
        envelope = json.JSONDecoder().raw_decode(body.strip())[0] if body.strip() else {}
    except ValueError:
        if status in GATEWAY_STATUSES:
            raise GatewayError(f"no ColonyOS server answered behind the proxy: {body.strip()[:200] or 'empty reply'}", status) from None
        if status != 200:
            raise ServerError(body.strip()[:500] or f"HTTP {status}", status) from None
        raise ProtocolError(f"reply is not JSON: {body[:200]!r}") from None
    if not isinstance(envelope, dict):
        raise ProtocolError(f"reply is not a JSON object: {body[:200]!r}")
    if envelope.get("error") or envelope.get("payloadtype") == "error":
        detail = decode_b64_json(envelope.get("payload", "")) if envelope.get("payload") else {}
        if not isinstance(detail, dict):
            detail = {"message": str(detail)}
        raise ServerError(str(detail.get("message", "unknown server error")), int(detail.get("status") or status))
    if status != 200:
        raise ServerError(f"HTTP {status} without an error payload", status)
    payload = envelope.get("payload")
    if not payload:
        return None
    return decode_b64_json(payload)


# ---------------------------------------------------------------- the server's side (for MockTransport)


def parse_request(body: str) -> tuple[str, dict[str, Any], str, str]:
    """(msgtype, payload, b64 payload, signature) of a request envelope, as the server reads it."""
    try:
        envelope = json.loads(body)
        msgtype, b64, signature = envelope["payloadtype"], envelope["payload"], envelope.get("signature", "")
    except (ValueError, KeyError, TypeError) as exc:
        raise ProtocolError(f"request is not an envelope: {exc}") from None
    payload = decode_b64_json(b64)
    if not isinstance(payload, dict) or payload.get("msgtype") != msgtype:
        raise ProtocolError(f"payload msgtype does not match payloadtype {msgtype!r}")
    return msgtype, payload, b64, signature


def _b64_json(value: Any) -> str:
    return base64.b64encode(json.dumps(value, separators=(",", ":")).encode("utf-8")).decode("ascii")


def build_reply(msgtype: str, payload: Any) -> str:
    """The JSON text of a successful reply; ``None`` gives the server's empty reply `{}`."""
    if payload is None:
        return "{}"
    return json.dumps({"payloadtype": msgtype, "payload": _b64_json(payload), "error": False})


def build_error_reply(status: int, message: str) -> str:
    return json.dumps({"payloadtype": "error", "payload": _b64_json({"status": status, "message": message}), "error": True})
