"""`python -m wasm_executor`: the browser's executor runtime, run from a terminal in CPython.

Same functions, same joining rules, same engine as the page; functions run in child processes
(slots), so runaway code can be stopped. Settings default to the COLONIES_* variables that
`source .colonies/dev.env` exports. Ctrl-C stops taking work and lets running processes finish;
a second Ctrl-C interrupts them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys

from .crypto import CryptoError, gen_id, gen_prvkey
from .engine.config import ExecutorConfig
from .engine.executor import ColonyExecutor
from .engine.process_slots import ProcessSlots
from .events import Event, State, describe
from .joining import parse_join_link
from .terminal import safe_line
from .urls import BadServerURL, check_server_url, check_server_urls, server_url_from_env


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m wasm_executor", description=(__doc__ or "").splitlines()[0])
    p.add_argument("--server", default=server_url_from_env(),
                   help="server URL, or several replicas' URLs separated by commas (default from COLONIES_SERVER_*)")
    p.add_argument("--colony", default=os.environ.get("COLONIES_COLONY_NAME", "dev"), help="colony name")
    p.add_argument("--name", default=None, help="executor name (default: cli-<first 8 of its ID>)")
    p.add_argument("--type", default="wasm", dest="executortype", help="executor type (default: wasm)")
    p.add_argument(
        "--prvkey", default=os.environ.get("WASM_EXECUTOR_PRVKEY"),
        help="the executor's own key (default: $WASM_EXECUTOR_PRVKEY, else a new one)",
    )
    p.add_argument(
        "--colony-prvkey", default=os.environ.get("COLONIES_COLONY_PRVKEY"),
        help="colony owner key to join by itself (default: $COLONIES_COLONY_PRVKEY); without it, wait for approval",
    )
    p.add_argument("--join", metavar="LINK", default=None,
                   help="a join link from `python -m wasm_executor.admission invite`: join with its invite "
                        "(sets server, colony and type; no colony key needed)")
    p.add_argument("--slots", type=int, default=max(1, (os.cpu_count() or 2) - 1),
                   help="processes run at once, each in its own child process (default: cores - 1)")
    p.add_argument("--slot-memory", type=int, default=0, metavar="MIB",
                   help="memory one slot offers a process, declared on each assign (default: the machine's share)")
    p.add_argument("--functions", default=None, help="a Python file of extra functions, as web/functions.py")
    p.add_argument("--allow-code", action="store_true",
                   help="run Python code the colony sends (the `python` function); without it such processes are refused")
    p.add_argument("--poll-timeout", type=int, default=10, help="seconds per assign long-poll")
    return p.parse_args(argv)


def print_event(event: Event) -> None:
    line = describe(event)
    if line is not None:
        print(safe_line(line), flush=True)


async def run(args: argparse.Namespace) -> int:
    try:
        prvkey = args.prvkey or gen_prvkey()
        executorid = gen_id(prvkey)
    except CryptoError as exc:
        print(f"bad --prvkey: {exc}", file=sys.stderr)
        return 2
    try:
        args.server = check_server_urls(args.server)
    except BadServerURL as exc:
        print(f"--server: {exc}", file=sys.stderr)
        return 2
    if args.slots < 1:
        print("--slots must be at least 1", file=sys.stderr)
        return 2
    link = None
    if args.join:
        try:
            link = parse_join_link(args.join)
            args.server = check_server_urls(link.server)
            check_server_url(link.admission, what="Admission URL")
        except (ValueError, BadServerURL) as exc:
            print(f"--join: {exc}", file=sys.stderr)
            return 2
        args.colony, args.executortype, args.colony_prvkey = link.colony, link.executortype, None
        if link.code and not args.allow_code:
            print("note: this colony sends Python code to run; it is refused unless you pass --allow-code", flush=True)
    if not args.prvkey:
        print(f"new executor key (pass it as --prvkey to be the same executor next time): {prvkey}", flush=True)
    config = ExecutorConfig(
        server_url=args.server, colonyname=args.colony, executorname=args.name or f"cli-{executorid[:8]}",
        prvkey=prvkey, executortype=args.executortype, colony_prvkey=args.colony_prvkey or None,
        poll_timeout=args.poll_timeout, allow_code=args.allow_code, slot_memory_mib=max(0, args.slot_memory),
        admission_url=link.admission if link else "", invite=link.invite if link else "",
        locationname=link.location if link else "",
    )
    print(f"executor {config.executorname} ({executorid}) type {config.executortype} at {config.server_url}", flush=True)
    slots = ProcessSlots(args.slots, args.functions)
    executor = ColonyExecutor(config, slots, on_event=print_event)
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        executor.stop(now=executor.stopping)  # the second Ctrl-C interrupts what runs

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, on_signal)
    try:
        await executor.run()
    finally:
        await executor.client.aclose()
        await slots.aclose()
    return 1 if executor.state == State.ERROR else 0


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
