"""The bridge between the page's Web Worker (web/worker.mjs) and the executor runtime.

Pyodide only. The page sends plain objects ({"type": ...}); we answer with postMessage.
Everything the page shows comes from these messages.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .crypto import CryptoError, gen_id, gen_prvkey
from .executor import ColonyExecutor, ExecutorConfig
from .functions import FunctionError, FunctionRegistry, default_registry, number

registry: FunctionRegistry = default_registry()
_executor: ColonyExecutor | None = None
_task: asyncio.Task[None] | None = None


def load_functions(source: str, filename: str = "functions.py", into: FunctionRegistry | None = None) -> list[str]:
    """Run a user's functions file with `registry` at hand; return the names it added."""
    target = registry if into is None else into
    before = set(target.names())
    namespace = {"registry": target, "number": number, "FunctionError": FunctionError, "__name__": "user_functions"}
    exec(compile(source, filename, "exec"), namespace)  # the page owner's own code, from the same bundle
    return sorted(set(target.names()) - before)


def post(kind: str, **data: Any) -> None:
    import js
    from pyodide.ffi import to_js

    js.postMessage(to_js({"type": kind, **data}, dict_converter=js.Object.fromEntries))


def identity(prvkey: str | None) -> None:
    """Use the stored key, or make one; the page keeps it so a reload is the same executor."""
    try:
        key = prvkey or gen_prvkey()
        post("identity", prvkey=key, executorid=gen_id(key))
    except CryptoError as exc:
        post("identity", prvkey=None, error=f"stored key is unusable ({exc}); a new one was made")
        identity(None)


def start(settings: dict[str, Any]) -> None:
    global _executor, _task
    if _task is not None and not _task.done():
        post("state", state="error", detail="already running")
        return
    config = ExecutorConfig(
        server_url=str(settings["serverUrl"]).strip().rstrip("/"),
        colonyname=str(settings["colonyName"]).strip(),
        executorname=str(settings["executorName"]).strip(),
        executortype=str(settings.get("executorType") or "wasm").strip(),
        prvkey=str(settings["prvkey"]),
        colony_prvkey=(str(settings.get("colonyPrvkey") or "").strip() or None),
    )
    _executor = ColonyExecutor(config, registry, on_event=lambda kind, data: post(kind, **data))
    _task = asyncio.ensure_future(_run(_executor))


async def _run(executor: ColonyExecutor) -> None:
    try:
        await executor.run()
    except Exception as exc:
        post("log", message=f"executor stopped: {type(exc).__name__}: {exc}")
    finally:
        await executor.client.aclose()


def stop() -> None:
    if _executor is not None:
        _executor.stop()


def handle(message: Any) -> None:
    msg = message.to_py() if hasattr(message, "to_py") else dict(message)
    kind = msg.get("type")
    if kind == "identity":
        identity(msg.get("prvkey"))
    elif kind == "start":
        start(msg)
    elif kind == "stop":
        stop()
    else:
        post("log", message=f"unknown message {kind!r}")
