"""`python -m wasm_executor`: the browser's executor runtime, run from a terminal in CPython.

Same functions, same joining rules, same output as the page; handy next to a browser fleet and
for trying functions without one. Settings default to the COLONIES_* variables that
`source .colonies/dev.env` exports. Ctrl-C stops after the current process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from typing import Any

from .crypto import CryptoError, gen_id, gen_prvkey
from .executor import ColonyExecutor, ExecutorConfig


def _default_server() -> str:
    host = os.environ.get("COLONIES_SERVER_HOST", "127.0.0.1")
    port = os.environ.get("COLONIES_SERVER_PORT", "50080")
    scheme = "https" if os.environ.get("COLONIES_TLS", "false").lower() == "true" else "http"
    return f"{scheme}://{host}:{port}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m wasm_executor", description=__doc__.splitlines()[0])
    p.add_argument("--server", default=_default_server(), help="server URL (default from COLONIES_SERVER_*)")
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
    p.add_argument("--poll-timeout", type=int, default=10, help="seconds per assign long-poll")
    return p.parse_args(argv)


def print_event(kind: str, data: dict[str, Any]) -> None:
    if kind == "state":
        detail = f": {data['detail']}" if data.get("detail") else ""
        print(f"[{data['state']}]{detail}", flush=True)
    elif kind == "process" and data.get("status") != "running":
        result = data["error"] if data["status"] == "failed" else " ".join(map(str, data["output"]))
        print(f"{data['status']:>6} {data['funcname']}({' '.join(data['args'])}) -> {result}  [{data['millis']} ms]", flush=True)
    elif kind == "log":
        print(f"  {data['message']}", flush=True)


async def run(args: argparse.Namespace) -> int:
    try:
        prvkey = args.prvkey or gen_prvkey()
        executorid = gen_id(prvkey)
    except CryptoError as exc:
        print(f"bad --prvkey: {exc}", file=sys.stderr)
        return 2
    if not args.prvkey:
        print(f"new executor key (pass it as --prvkey to be the same executor next time): {prvkey}", flush=True)
    config = ExecutorConfig(
        server_url=args.server, colonyname=args.colony, executorname=args.name or f"cli-{executorid[:8]}",
        prvkey=prvkey, executortype=args.executortype, colony_prvkey=args.colony_prvkey or None,
        poll_timeout=args.poll_timeout,
    )
    print(f"executor {config.executorname} ({executorid}) type {config.executortype} at {config.server_url}", flush=True)
    executor = ColonyExecutor(config, on_event=print_event)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, executor.stop)
    try:
        await executor.run()
    finally:
        await executor.client.aclose()
    return 1 if executor.state == "error" else 0


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
