"""Joining a colony with an invite: the executor's half of the admission service's protocol.

Runs in CPython and in the browser's executor worker. The executor's key never leaves it: it
proves it holds the key by signing a fresh challenge from the service, and the service (which
holds the colony key, wasm_executor/admission) adds and approves it. The protocol, both halves:

    POST {admission}/challenge        -> {"challenge": "<hex>", "expires_in": seconds}
    POST {admission}/join  {"join": {...JOIN_FIELDS}, "signature": "<hex>"}
         -> 200 {"executorid", "executorname", "colonyname", "readmitted": bool}
         -> 4xx {"error": "<sentence>", "reason": "<word>"}  (a refusal: retrying will not help)
         -> 409 (the challenge is stale), 429, 5xx           (try again: a new challenge, later)

    POST {admission}/leave {"leave": {...LEAVE_FIELDS}, "signature": "<hex>"}
         -> 200 {"left": true}: the service removed the executor, and the server put the processes
            it held back in the queue (sent by a page as it goes away: `leave_request`)

The signature is over `signed_text(join)`: the join's fields as canonical JSON, so the name,
type and invite are bound to the proof and to that one challenge. A leave is bound to one join
by its `admitted_at` (in the join's reply): an old leave replayed after a later join is refused.
A join link is the page's URL with the fields a browser needs in its query (`join_link`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from .crypto import gen_id, gen_signature
from .errors import ConnectionFailed
from .transport import Transport

JOIN_FIELDS = ("challenge", "invite", "colonyname", "executorid", "executorname", "executortype", "locationname")
LEAVE_FIELDS = ("colonyname", "executorid", "executorname", "admitted_at")
TIMEOUT = 30.0


class AdmissionRefused(Exception):
    """The service said no for a reason a retry will not change; `reason` is one word or two."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class AdmissionUnavailable(ConnectionFailed):
    """The service is busy (rate limit) or failing: a transport-like trouble, worth a retry."""


def signed_text(join: dict[str, Any], fields: tuple[str, ...] = JOIN_FIELDS) -> str:
    """What the executor signs and the service verifies: one spelling of the join's (or leave's) fields."""
    return json.dumps({k: str(join.get(k, "")) for k in fields}, sort_keys=True, separators=(",", ":"))


def leave_request(admission_url: str, prvkey: str, colonyname: str, executorname: str, admitted_at: str) -> tuple[str, str]:
    """(URL, body) of the leave that undoes the join admitted at `admitted_at` (see the protocol above)."""
    leave = {"colonyname": colonyname, "executorid": gen_id(prvkey), "executorname": executorname, "admitted_at": admitted_at}
    body = json.dumps({"leave": leave, "signature": gen_signature(signed_text(leave, LEAVE_FIELDS), prvkey)})
    return f"{admission_url.rstrip('/')}/leave", body


@dataclass(frozen=True)
class JoinLink:
    page: str
    server: str
    colony: str
    admission: str
    invite: str
    executortype: str = "wasm"
    location: str = ""
    code: bool = False  # the colony sends Python code (`python`): the page asks the joiner's consent for it

    def url(self) -> str:
        query = {"server": self.server, "colony": self.colony, "type": self.executortype,
                 "admission": self.admission, "invite": self.invite}
        if self.location:
            query["location"] = self.location
        if self.code:
            query["code"] = "1"
        base = self.page.split("?", 1)[0].split("#", 1)[0]
        return f"{base}?{urlencode(query)}"


def parse_join_link(url: str) -> JoinLink:
    """A join link's fields; ValueError naming what is missing."""
    parts = urlsplit(url.strip())
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    missing = [k for k in ("server", "colony", "admission", "invite") if not query.get(k)]
    if missing:
        raise ValueError(f"not a join link: it has no {', '.join(missing)}")
    return JoinLink(
        page=f"{parts.scheme}://{parts.netloc}{parts.path}", server=query["server"], colony=query["colony"],
        admission=query["admission"], invite=query["invite"], executortype=query.get("type", "wasm"),
        location=query.get("location", ""), code=query.get("code") == "1",
    )


def _reply(status: int, text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        data = {}
    if status == 200:
        return data
    message = str(data.get("error") or text[:200] or f"HTTP {status}")
    if status in (409, 429) or status >= 500:
        raise AdmissionUnavailable(f"the admission service is unavailable: {message}", status)
    raise AdmissionRefused(str(data.get("reason") or f"HTTP {status}"), message)


async def join_by_invite(
    transport: Transport,
    admission_url: str,
    invite: str,
    prvkey: str,
    colonyname: str,
    executorname: str,
    executortype: str,
    locationname: str = "",
) -> dict[str, Any]:
    """Ask the service to add and approve this executor. AdmissionRefused with the service's
    reason; TransportError (AdmissionUnavailable among them) when a retry may help."""
    base = admission_url.rstrip("/")
    challenge = _reply(*await transport.post(f"{base}/challenge", "{}", TIMEOUT)).get("challenge")
    if not isinstance(challenge, str) or not challenge:
        raise AdmissionUnavailable("the admission service sent no challenge")
    join = {
        "challenge": challenge, "invite": invite, "colonyname": colonyname, "executorid": gen_id(prvkey),
        "executorname": executorname, "executortype": executortype, "locationname": locationname,
    }
    body = json.dumps({"join": join, "signature": gen_signature(signed_text(join), prvkey)})
    return _reply(*await transport.post(f"{base}/join", body, TIMEOUT))
