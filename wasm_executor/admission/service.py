"""The admission service over HTTP (aiohttp): challenges, joins, leaves, and the admin's fleet page.

It holds the colony key and uses it for three calls only: add and approve an executor, after the
store has said yes (`Store.decide`), and remove one it admitted that asks to leave (a page going
away: the server then puts the processes it held back in the queue, engine/farewell.py). Every
admission and refusal goes to the store's journal and to stdout. Requests are bounded in size (MAX_BODY) and in rate per client address; the
page's origin (and only it) gets CORS. A refusal touches nothing on the colony.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..client import ColoniesClient
from ..crypto import CryptoError, recid
from ..errors import RPCError, ServerError, TransportError
from ..joining import JOIN_FIELDS, LEAVE_FIELDS, signed_text
from ..objects import Executor
from . import status
from .fleet import members
from .store import Decision, Store, refuse

MAX_BODY = 4096
CHALLENGE_TTL = 60.0
MAX_CHALLENGES = 10_000
NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
TOO_LARGE = {"reason": "too large", "error": f"requests are limited to {MAX_BODY} bytes"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


LEAVE_WHYS = ("closed", "frozen")  # what a page says of its leave (`?why=`)
BAD_LEAVE = {"reason": "bad request", "error": "a leave is JSON {leave: {...}, signature}: see wasm_executor/joining.py"}

async def _signed_body(request: web.Request, key: str, names: tuple[str, ...]) -> tuple[dict[str, str], str] | None:
    """A join's or a leave's body, `{key: {...}, signature}`: its fields named `names` (each text
    of at most 256 characters; a missing one is "") and the signature. None when it is not that."""
    try:
        body = json.loads(await request.text())
        inner, signature = body[key], body["signature"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(inner, dict) or not isinstance(signature, str):
        return None
    fields = {k: inner.get(k, "") for k in names}
    if not all(isinstance(v, str) and len(v) <= 256 for v in fields.values()):
        return None
    return fields, signature


def _json(status: int, body: dict[str, Any]) -> web.Response:
    return web.json_response(body, status=status)


class RateLimit:
    """A token bucket per client address: `burst` requests at once, `rate` per second after."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str, now: float) -> bool:
        if len(self._buckets) > 10_000:  # forget idle clients rather than grow without bound
            self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < self.burst / self.rate}
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1, now)
        return True


class AdmissionService:
    def __init__(
        self,
        store: Store,
        client: ColoniesClient,
        colonyname: str,
        colony_prvkey: str,
        member_prvkey: str | None = None,
        origins: tuple[str, ...] = (),
        rate: float = 5.0,
        burst: float = 40.0,
        say: Callable[[str], None] = lambda line: print(line, flush=True),
        admin_token: str = "",
    ) -> None:
        self.store, self.client = store, client
        self.colonyname, self.colony_prvkey, self.member_prvkey = colonyname, colony_prvkey, member_prvkey
        self.origins = {o.rstrip("/") for o in origins}
        self.limit = RateLimit(rate, burst)
        self.say = say
        self.admin_token = admin_token  # "" : the fleet page is off
        self._challenges: dict[str, float] = {}  # challenge -> expiry; one use each
        self._lock = asyncio.Lock()  # one join at a time reaches the colony: names and uses stay consistent

    # ------------------------------------------------------------------ HTTP plumbing

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._guard])
        app.router.add_post("/challenge", self.challenge)
        app.router.add_post("/join", self.join)
        app.router.add_post("/leave", self.leave)
        app.router.add_get("/health", self.health)
        app.router.add_get("/fleet", self.fleet_page)
        app.router.add_route("OPTIONS", "/{tail:.*}", self.preflight)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        allowed = origin is not None and self.allows(origin)
        if origin is not None and not allowed:
            response: web.StreamResponse = _json(403, {"reason": "origin not allowed",
                                                       "error": f"pages from {origin} may not use this admission service"})
        elif not self.limit.allow(request.remote or "", time.monotonic()):
            response = _json(429, {"reason": "too many requests", "error": "too many requests: try again in a few seconds"})
        elif request.content_length is not None and request.content_length > MAX_BODY:
            response = _json(413, TOO_LARGE)
        else:
            try:
                response = await handler(request)
            except web.HTTPRequestEntityTooLarge:  # a body without a Content-Length, read past the bound
                response = _json(413, TOO_LARGE)
        if allowed:
            response.headers["Access-Control-Allow-Origin"] = origin  # type: ignore[assignment]
            response.headers["Vary"] = "Origin"
        return response

    def allows(self, origin: str) -> bool:
        """An origin given with --allow-origin, or one on any port of a `scheme://host:*` given so."""
        if origin in self.origins and not origin.endswith(":*"):
            return True
        base, _, port = origin.rpartition(":")
        return port.isdigit() and f"{base}:*" in self.origins

    async def preflight(self, _request: web.Request) -> web.Response:
        return web.Response(status=204, headers={
            "Access-Control-Allow-Methods": "POST, GET", "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600"})

    async def health(self, _request: web.Request) -> web.Response:
        return _json(200, {"colonyname": self.colonyname})

    async def fleet_page(self, request: web.Request) -> web.Response:
        """The fleet of `?type=` (default wasm) for the admin: HTML, or JSON with `&format=json` (status.py)."""
        if not self.admin_token:
            return _json(404, {"reason": "off", "error": "the fleet page is off: start the service with "
                                                         "$WASM_ADMISSION_ADMIN_TOKEN set"})
        if not status.authorized(request.headers.get("Authorization", ""), self.admin_token):
            return web.Response(status=401, text="the fleet page needs the admin's token (as the password)\n",
                                headers={"WWW-Authenticate": status.CHALLENGE})
        if self.member_prvkey is None:
            return _json(503, {"reason": "no member key", "error": "the fleet page needs $COLONIES_PRVKEY "
                                                                   "(a colony member's key) to list executors"})
        executortype = request.query.get("type", "wasm")
        try:
            rows = await members(self.client, self.colonyname, executortype, self.member_prvkey, self.store)
        except RPCError as exc:
            return _json(502, {"reason": "server", "error": f"the ColonyOS server did not list the executors: {exc}"})
        if request.query.get("format") == "json":
            return _json(200, {"colonyname": self.colonyname, "executortype": executortype,
                               "executors": [dataclasses.asdict(m) for m in rows]})
        return web.Response(text=status.render(rows, self.colonyname, executortype), content_type="text/html",
                            headers={"Content-Security-Policy": status.CSP, "Cache-Control": "no-store",
                                     "X-Content-Type-Options": "nosniff"})

    # ------------------------------------------------------------------ the protocol (wasm_executor/joining.py)

    async def challenge(self, _request: web.Request) -> web.Response:
        now = time.monotonic()
        if len(self._challenges) >= MAX_CHALLENGES:
            self._challenges = {c: t for c, t in self._challenges.items() if t > now}
            if len(self._challenges) >= MAX_CHALLENGES:
                return _json(429, {"reason": "too many requests", "error": "too many joins under way: try again shortly"})
        challenge = secrets.token_hex(16)
        self._challenges[challenge] = now + CHALLENGE_TTL
        return _json(200, {"challenge": challenge, "expires_in": CHALLENGE_TTL})

    async def join(self, request: web.Request) -> web.Response:
        remote = request.remote or ""
        parsed = await _signed_body(request, "join", JOIN_FIELDS)
        if parsed is None:
            return self._refused(400, refuse("bad request", "a join is JSON {join: {...}, signature}: see wasm_executor/joining.py"),
                                 remote=remote)
        fields, signature = parsed
        executorid, name = fields["executorid"], fields["executorname"]

        def refused(decision: Decision, status: int = 403) -> web.Response:
            return self._refused(status, decision, executorid, name, remote)

        expiry = self._challenges.pop(fields["challenge"], None)
        if expiry is None or expiry < time.monotonic():  # also after a restart of this service: the joiner asks again
            return refused(refuse("stale challenge", "the challenge is unknown, used or expired: ask for a new one"), 409)
        try:
            signer = recid(signed_text(fields), signature)
        except CryptoError as exc:
            return refused(refuse("bad proof", f"the signature cannot be read: {exc}"))
        if signer != executorid:
            return refused(refuse("bad proof", "the join is not signed by the key of the executor it names"))
        if not NAME.fullmatch(name):
            return refused(refuse("bad name", "executor names are 1 to 64 of A-Z a-z 0-9 . _ -"), 400)
        if fields["colonyname"] != self.colonyname:
            return refused(refuse("wrong colony", f"this service admits to colony '{self.colonyname}' only"))
        async with self._lock:
            decision = self.store.decide(fields["invite"], fields["colonyname"], executorid, name,
                                         fields["executortype"], fields["locationname"])
            if not decision.admitted:
                return refused(decision)
            if not decision.readmit and not self.store.spend(decision.invite_id):
                return refused(refuse("used up", f"invite {decision.invite_id} has no use left", decision.invite_id))
            admitted = False
            now = time.time()
            try:
                failure = await self._add_and_approve(fields)
                if failure is None:
                    self.store.admit(executorid, name, self.colonyname, decision.invite_id, now)
                    admitted = True
            finally:  # the use taken above goes back unless the executor got in, whatever went wrong
                if not admitted and not decision.readmit:
                    self.store.give_back(decision.invite_id)
            if failure is not None:
                status, why = failure
                return refused(refuse(why[0], why[1], decision.invite_id), status)
        outcome = "readmitted" if decision.readmit else "admitted"
        self._log(outcome, "", executorid, name, decision.invite_id, remote)
        return _json(200, {"executorid": executorid, "executorname": name, "colonyname": self.colonyname,
                           "readmitted": decision.readmit, "admitted_at": repr(now)})

    async def leave(self, request: web.Request) -> web.Response:
        """An executor this service admitted leaves (its page is going away): remove it from the
        colony, so the server requeues what it held. Bound to its latest admission (`admitted_at`)."""
        remote = request.remote or ""
        parsed = await _signed_body(request, "leave", LEAVE_FIELDS)
        if parsed is None:
            return _json(400, BAD_LEAVE)
        fields, signature = parsed
        try:
            signer = recid(signed_text(fields, LEAVE_FIELDS), signature)
        except CryptoError:
            return _json(400, BAD_LEAVE)
        executorid, name = fields["executorid"], fields["executorname"]
        admission = self.store.admission(executorid)
        if signer != executorid or admission is None or admission["colonyname"] != fields["colonyname"] \
                or admission["executorname"] != name or repr(admission["last"]) != fields["admitted_at"]:
            self._log("refused", "bad leave", executorid, name, "", remote)
            return _json(403, {"reason": "bad leave", "error": "this leave is not signed by an executor for its latest admission here"})
        try:
            await self.client.remove_executor(self.colonyname, name, self.colony_prvkey)
        except ServerError as exc:
            return _json(502, {"reason": "colony refused", "error": f"the colony server refused to remove the executor: {exc.message}"})
        except TransportError as exc:
            return _json(503, {"reason": "colony unreachable", "error": f"the colony server cannot be reached: {exc}"})
        why = request.query.get("why", "")  # the page's word (not signed): for the fleet view only
        self._log("left", why if why in LEAVE_WHYS else "", executorid, name, admission["invite_id"], remote)
        return _json(200, {"left": True})

    async def _add_and_approve(self, f: dict[str, str]) -> tuple[int, tuple[str, str]] | None:
        """None once the executor is approved; else (HTTP status, (reason, message)), the colony unchanged."""
        colony, name, executorid = self.colonyname, f["executorname"], f["executorid"]
        try:
            if self.member_prvkey:  # the colony key is not a member: it cannot look executors up
                try:
                    holder = await self.client.get_executor(colony, name, self.member_prvkey)
                except ServerError:
                    holder = None  # not found
                if holder is not None and holder.executorid != executorid:
                    return 403, ("name taken", f"the colony already has an executor named '{name}': choose another name")
            executor = Executor.new(name, executorid, f["executortype"], colony)
            executor.locationname = f["locationname"]
            added = True
            try:
                await self.client.add_executor(executor, self.colony_prvkey)
            except ServerError:
                added = False  # a server that does not re-register keeps the existing entry: approve it
            try:
                await self.client.approve_executor(colony, name, self.colony_prvkey)
            except ServerError as exc:
                if added:
                    await self.client.remove_executor(colony, name, self.colony_prvkey)
                return 502, ("colony refused", f"the colony server refused to approve the executor: {exc.message}")
        except TransportError as exc:
            return 503, ("colony unreachable", f"the colony server cannot be reached: {exc}")
        return None

    # ------------------------------------------------------------------ journal

    def _refused(self, status: int, decision: Decision, executorid: str = "", name: str = "", remote: str = "") -> web.Response:
        self._log("refused", decision.reason, executorid, name, decision.invite_id, remote)
        return _json(status, {"reason": decision.reason, "error": decision.message})

    def _log(self, outcome: str, reason: str, executorid: str, name: str, invite_id: str, remote: str) -> None:
        self.store.record(outcome, reason, executorid, name, invite_id, remote)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        why = f" reason={reason!r}" if reason else ""
        self.say(f"{stamp} {outcome}{why} executor={executorid or '-'} name={name or '-'} "
                 f"invite={invite_id or '-'} from={remote or '-'}")
