"""The SDK's exception tree.

Kinds of failure are told apart by type, never by message text: trouble on the way
(`TransportError`: a connection that could not be made, `ConnectionFailed`, a load balancer
with no server behind it, `GatewayError`, or a request that ran out of time, `RequestTimeout`)
is worth a retry; a well-formed error reply from the server (`ServerError`, with its HTTP
`status`) and a reply we cannot read (`ProtocolError`) are not.
An empty `assign` long-poll is not an error at all: `assign` returns ``None``.
"""

from __future__ import annotations


class RPCError(Exception):
    """Base of every error a client call raises (named after the Rust SDK's RPCError)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def conn_err(self) -> bool:
        """True when the server could not be reached or did not answer in time (the Rust SDK's name)."""
        return isinstance(self, TransportError)

    def __str__(self) -> str:
        return f"{self.message} (HTTP {self.status})" if self.status else self.message


class TransportError(RPCError):
    """Trouble between us and the server: nothing was answered. Worth a retry."""


class ConnectionFailed(TransportError):
    """The server could not be reached (refused, reset, DNS, CORS, network down)."""


class GatewayError(TransportError):
    """A proxy or load balancer in front of the server answered for it that no server could
    (HTTP 502, 503 or 504 without the server's own error reply): nothing reached ColonyOS."""


class RequestTimeout(TransportError):
    """No answer within the time allowed (the transport gave up, or a subscription ran out)."""


class ServerError(RPCError):
    """The server answered with an error reply: `status` is its HTTP status, `message` its text."""

    status: int

    @property
    def paused(self) -> bool:
        """The answer to an assign while the colony's assignments are paused (`colonies process pause`):
        408 after a held long-poll, 503 for one that was not held. Only the text tells it from a timeout."""
        return self.status in (408, 503) and "paused" in self.message.lower()


class ProtocolError(RPCError):
    """The server's reply could not be understood (not JSON, bad base64, wrong shape)."""
