"""The Pyodide boundary: every `js` and `pyodide` import of the package lives here.

Everything else imports under plain CPython and is tested there; this module is covered by the
in-Pyodide and browser tests. The imports are inside functions so that importing this module
in CPython costs nothing and fails nothing.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def in_pyodide() -> bool:
    """True inside Pyodide (a browser page, a Web Worker or Node)."""
    return sys.platform == "emscripten" or "pyodide" in sys.modules


def js_global() -> Any:
    """The JS global scope: the window, or the Web Worker's `self`."""
    import js

    return js


def to_js_object(value: Any) -> Any:
    """A Python dict/list as plain JS objects/arrays (not Maps), as postMessage and fetch expect."""
    import js
    from pyodide.ffi import to_js

    return to_js(value, dict_converter=js.Object.fromEntries)


def create_proxy(fn: Any) -> Any:
    """A JS callable that keeps `fn` alive until `.destroy()` (event listeners)."""
    from pyodide.ffi import create_proxy as _create_proxy

    return _create_proxy(fn)


def js_exception_type() -> type[BaseException]:
    from pyodide.ffi import JsException

    return JsException


def js_error_name(exc: BaseException) -> str:
    """The JS error's `name` ("TimeoutError", "AbortError", "TypeError", …)."""
    return str(getattr(exc, "name", "") or type(exc).__name__)


def post_message(message: dict[str, Any]) -> None:
    """Send one message from this Web Worker to whoever created it, as JSON text: one string
    crosses the FFI and is cloned cheaply, where a converted dict costs a JS object per field."""
    js_global().postMessage(json.dumps(message))


def slot_host() -> Any:
    """The executor worker's JS module that owns the slot workers (web/worker.mjs registers it)."""
    import wasm_slot_host  # type: ignore[import-not-found]  # registered with pyodide.registerJsModule

    return wasm_slot_host


def page_post() -> Any:
    """The page's one-call HTTP helper (web/net.mjs, registered as `wasm_net`), or None where
    Pyodide runs without our page (Node, another app): the transport then builds the request
    itself. Not made with eval: the page's CSP forbids it."""
    try:
        import wasm_net  # type: ignore[import-not-found]
    except ImportError:
        return None
    return wasm_net.post


async def load_package(names: list[str]) -> None:
    """Load packages listed in the bundle's pyodide-lock.json (no network: the lock is ours)."""
    import pyodide_js  # type: ignore[import-not-found]

    await pyodide_js.loadPackage(names)


def page_scheme() -> str:
    """"https" or "http": how the page (and so this worker) was loaded."""
    return str(js_global().location.protocol).rstrip(":")


def keystore() -> Any:
    """The executor worker's key store (web/keystore.mjs, registered as `wasm_keystore`)."""
    import wasm_keystore  # type: ignore[import-not-found]

    return wasm_keystore
