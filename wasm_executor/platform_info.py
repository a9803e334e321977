"""What the executor knows about where it runs: browser APIs in Pyodide, the OS in CPython.

In Pyodide the JS global scope (from `_compat`) is the page's or worker's, so its `navigator`
is the browser's Navigator (or WorkerNavigator). This module loads in plain CPython too.
"""

from __future__ import annotations

import locale
import os
import platform
import sys
import time
from typing import Any

from ._compat import in_pyodide, js_global
from ._version import __version__
from .objects import Capabilities, Hardware, Software
from .resources import cpu_text, mem_text


def _browser_info() -> dict[str, Any]:
    js = js_global()
    nav = js.navigator
    info: dict[str, Any] = {
        "runtime": "pyodide",
        "userAgent": str(nav.userAgent),
        "language": str(nav.language),
        "languages": [str(x) for x in (nav.languages or [])],
        "platform": str(getattr(nav, "platform", "") or ""),
        "hardwareConcurrency": int(nav.hardwareConcurrency or 0),
        "onLine": bool(nav.onLine),
        "timezone": str(js.Intl.DateTimeFormat.new().resolvedOptions().timeZone),
        "python": sys.version.split()[0],
        "pyodide": _pyodide_version(),
    }
    memory = getattr(nav, "deviceMemory", None)  # Chromium only, in GiB
    if memory is not None:
        info["deviceMemoryGiB"] = float(memory)
    return info


def _pyodide_version() -> str:
    try:
        import pyodide  # type: ignore[import-not-found]
    except ImportError:
        return ""
    return str(getattr(pyodide, "__version__", ""))


def _native_info() -> dict[str, Any]:
    lang = locale.getlocale()[0] or "C"
    return {
        "runtime": "cpython",
        "userAgent": f"CPython/{platform.python_version()} ({platform.platform()})",
        "language": lang,
        "languages": [lang],
        "platform": sys.platform,
        "hardwareConcurrency": os.cpu_count() or 0,
        "onLine": True,
        "timezone": time.tzname[0],
        "python": platform.python_version(),
    }


def platform_info() -> dict[str, Any]:
    return _browser_info() if in_pyodide() else _native_info()


INVITE_SOFTWARE = "admission-invite"  # the software entry that names the invite an executor joined with


def capabilities(slots: int = 1, slot_memory_mib: int = 0, invite_id: str = "") -> Capabilities:
    """What the executor reports to the colony with `update_executor`: the device, what it gives
    processes (one core per slot, `slot_memory_mib` each; see resources.py), the runtime its
    results come from, and the invite it joined with (its ID, never its secret), so a result's
    provenance (`Pool.provenance`) can name them."""
    info = platform_info()
    hw = Hardware(
        model=info["userAgent"][:200],
        nodes=1,
        cores=int(info["hardwareConcurrency"]),
        cpu=cpu_text(slots),
        mem=mem_text(slot_memory_mib * slots) if slot_memory_mib else "",
        platform="browser" if info["runtime"] == "pyodide" else info["platform"],
        architecture="wasm32" if info["runtime"] == "pyodide" else platform.machine(),
    )
    sw = [
        Software(name="python", type=info["runtime"], version=info["python"]),
        Software(name="wasm-executor", type="executor", version=__version__),
    ]
    if info.get("pyodide"):
        sw.append(Software(name="pyodide", type="runtime", version=info["pyodide"]))
    if invite_id:
        sw.append(Software(name=INVITE_SOFTWARE, type="admission", version=invite_id))
    return Capabilities(hardware=[hw], software=sw)
