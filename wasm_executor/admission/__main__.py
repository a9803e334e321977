"""`python -m wasm_executor.admission`: admit executors to a colony by invite, without handing out its key.

    serve                     run the service (holds $COLONIES_COLONY_PRVKEY; never sends it anywhere)
    invite --uses 100 --expires 24h [--type wasm] [--location X] [--code]
                              make an invite and print it with its join link
    list                      the invites, with uses left and state
    revoke ID                 end an invite: no new joins, no re-joins
    log [-n 20]               the latest admissions and refusals
    fleet [--type wasm]       every executor of a type: invite, state, slots, done, rate, last heard

Settings default to the variables `source .colonies/dev.env` exports: COLONIES_SERVER_*,
COLONIES_COLONY_NAME, COLONIES_COLONY_PRVKEY, COLONIES_PRVKEY (a member key, used to look
names up), WASM_ADMISSION_DB, WASM_ADMISSION_URL and WASM_PAGE_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
from urllib.parse import urlsplit

from ..crypto import CryptoError, gen_id
from ..joining import JoinLink
from ..urls import check_server_urls, server_url_from_env
from .store import Store

DEFAULT_PORT = 50081
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> float:
    """'90s', '30m', '24h', '7d' (a bare number is hours) in seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not match or float(match[1]) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 90s, 30m, 24h or 7d")
    return float(match[1]) * UNITS[match[2] or "h"]


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _key_from_env(name: str, command: str, whose: str) -> str | None:
    """The private key in $`name`; None, said on stderr, when it holds none."""
    key = _env(name)
    try:
        gen_id(key)
    except CryptoError:
        print(f"{command} needs {whose} key in ${name}", file=sys.stderr)
        return None
    return key


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m wasm_executor.admission", description=(__doc__ or "").splitlines()[0])
    p.add_argument("--db", default=_env("WASM_ADMISSION_DB", "admission.db"), help="the SQLite file (default: $WASM_ADMISSION_DB)")
    p.add_argument("--colony", default=_env("COLONIES_COLONY_NAME", "dev"), help="the colony (default: $COLONIES_COLONY_NAME)")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the service")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=DEFAULT_PORT)
    s.add_argument("--server", default=server_url_from_env(), help="the ColonyOS server (default from COLONIES_SERVER_*)")
    s.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                   help="a page origin allowed to join, e.g. https://lab.example.org or http://127.0.0.1:* "
                        "(repeatable; default: the origin of $WASM_PAGE_URL)")
    s.add_argument("--rate", type=float, default=5.0, help="requests per second per client address (default 5)")
    s.add_argument("--burst", type=float, default=40.0,
                   help="requests a client address may make at once before --rate applies (default 40; "
                        "a lab behind one NAT address needs about 2 per machine)")
    i = sub.add_parser("invite", help="make an invite and print its join link")
    i.add_argument("--uses", type=int, default=1, help="how many executors it admits (default 1)")
    i.add_argument("--expires", type=duration, default=duration("24h"), help="e.g. 30m, 24h, 7d (default 24h)")
    i.add_argument("--type", default="wasm", dest="executortype", help="the executor type it admits (default wasm)")
    i.add_argument("--location", default="", help="the location name joiners must give (default: any)")
    i.add_argument("--code", action="store_true",
                   help="the colony sends Python code to run (`python`, Pool): the join page asks each joiner's consent")
    i.add_argument("--page", default=_env("WASM_PAGE_URL", "http://127.0.0.1:8000/"), help="the page URL (default: $WASM_PAGE_URL)")
    i.add_argument("--admission", default=_env("WASM_ADMISSION_URL", f"http://127.0.0.1:{DEFAULT_PORT}"),
                   help="this service's URL as browsers reach it (default: $WASM_ADMISSION_URL)")
    i.add_argument("--server", default=server_url_from_env(),
                   help="the ColonyOS server as browsers reach it (several replicas' URLs: separated by commas)")
    sub.add_parser("list", help="the invites")
    r = sub.add_parser("revoke", help="end an invite")
    r.add_argument("invite_id", metavar="ID")
    g = sub.add_parser("log", help="the latest admissions and refusals")
    g.add_argument("-n", type=int, default=20)
    f = sub.add_parser("fleet", help="every executor of a type, as it stands (needs $COLONIES_PRVKEY, a member's key)")
    f.add_argument("--type", default="wasm", dest="executortype", help="the executor type (default wasm)")
    f.add_argument("--server", default=server_url_from_env(), help="the ColonyOS server (default from COLONIES_SERVER_*)")
    return p.parse_args(argv)


def _when(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t)) if t else "-"


def cmd_invite(args: argparse.Namespace, store: Store) -> int:
    server = check_server_urls(args.server)  # before the invite is made: a bad URL makes none
    invite, text = store.create_invite(args.colony, args.executortype, args.uses, args.expires, args.location)
    link = JoinLink(page=args.page, server=server, colony=args.colony, admission=args.admission.rstrip("/"),
                    invite=text, executortype=args.executortype, location=args.location, code=args.code)
    print(f"invite {invite.id}: {invite.uses} use(s) for type '{invite.executortype}'"
          f"{' at ' + invite.locationname if invite.locationname else ''} in colony '{invite.colonyname}', "
          f"until {_when(invite.expires)}")
    print(f"invite: {text}")
    print(f"join link: {link.url()}")
    return 0


def cmd_list(store: Store) -> int:
    now = time.time()
    print(f"{'ID':<9} {'STATE':<8} {'USED':>9} {'TYPE':<10} {'LOCATION':<10} EXPIRES")
    for inv in store.invites():
        print(f"{inv.id:<9} {inv.status(now):<8} {f'{inv.used}/{inv.uses}':>9} {inv.executortype:<10} "
              f"{inv.locationname or '-':<10} {_when(inv.expires)}")
    return 0


def cmd_log(store: Store, n: int) -> int:
    for row in store.journal(n):
        why = f" ({row['reason']})" if row["reason"] else ""
        print(f"{_when(row['time'])} {row['outcome']}{why} executor={row['executorid'] or '-'} "
              f"name={row['executorname'] or '-'} invite={row['invite_id'] or '-'} from={row['remote'] or '-'}")
    return 0


async def cmd_fleet(args: argparse.Namespace, store: Store) -> int:
    from ..client import ColoniesClient
    from ..errors import RPCError
    from .fleet import members, table

    member = _key_from_env("COLONIES_PRVKEY", "fleet", "a colony member's")
    if member is None:
        return 2
    async with ColoniesClient(args.server) as client:
        try:
            rows = await members(client, args.colony, args.executortype, member, store)
        except RPCError as exc:
            print(f"fleet: {exc}", file=sys.stderr)
            return 1
    print(table(rows))
    return 0


async def serve(args: argparse.Namespace, store: Store) -> int:
    from aiohttp import web  # CPython only; the rest of the package runs in the browser too

    from ..client import ColoniesClient
    from .service import AdmissionService

    colony_prvkey = _key_from_env("COLONIES_COLONY_PRVKEY", "serve", "the colony owner's")
    if colony_prvkey is None:
        return 2
    member = _env("COLONIES_PRVKEY") or None
    if member is None:
        print("note: no $COLONIES_PRVKEY (a colony member's key): names are checked against admitted executors only",
              flush=True)
    origins = tuple(args.allow_origin) or (_origin(_env("WASM_PAGE_URL", "http://127.0.0.1:8000/")),)
    async with ColoniesClient(args.server) as client:
        admin_token = _env("WASM_ADMISSION_ADMIN_TOKEN")
        service = AdmissionService(store, client, args.colony, colony_prvkey, member, origins, rate=args.rate, burst=args.burst,
                                   admin_token=admin_token)
        runner = web.AppRunner(service.app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, args.host, args.port).start()
        print(f"admission service for colony '{args.colony}' on http://{args.host}:{args.port} "
              f"(server {args.server}; pages from {', '.join(origins)}; store {args.db}; fleet page "
              f"{'at /fleet, behind $WASM_ADMISSION_ADMIN_TOKEN' if admin_token else 'off'})", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
    return 0


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    store = Store(args.db)
    if args.command == "serve":
        try:
            return asyncio.run(serve(args, store))
        except KeyboardInterrupt:
            return 0
    if args.command == "invite":
        try:
            return cmd_invite(args, store)
        except ValueError as exc:
            print(f"invite: {exc}", file=sys.stderr)
            return 2
    if args.command == "list":
        return cmd_list(store)
    if args.command == "revoke":
        if store.revoke(args.invite_id):
            print(f"invite {args.invite_id} revoked")
            return 0
        print(f"no open invite {args.invite_id}", file=sys.stderr)
        return 1
    if args.command == "fleet":
        return asyncio.run(cmd_fleet(args, store))
    return cmd_log(store, args.n)


if __name__ == "__main__":
    sys.exit(main())
