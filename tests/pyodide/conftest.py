"""pytest-pyodide set-up: the offline bundle (dist/pyodide-test: the page's runtime plus pytest's wheels), Node and Debian's Chromium.

Node 20 has no global WebSocket without --experimental-websocket; the driver must also hand
that global to Pyodide. Selenium finds Debian's chromedriver offline with SE_OFFLINE.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pytest_pyodide.config import get_global_config

from tools.browser import CHROMIUM_FLAGS

os.environ.setdefault("SE_OFFLINE", "true")
os.environ.setdefault("SE_AVOID_STATS", "true")

_config = get_global_config()
_config.set_flags("node", ["--experimental-websocket"])
_config.add_node_extra_globals(["WebSocket"])
_config.set_flags("chrome", ["--js-flags=--expose-gc", *CHROMIUM_FLAGS])


@pytest.fixture(scope="session", autouse=True)
def bundle_is_there(request: pytest.FixtureRequest) -> None:
    dist = Path(request.config.option.dist_dir)
    if not (dist / "pyodide-lock.json").exists() or not list(dist.glob("wasm_executor-*.whl")):
        pytest.fail(f"{dist} holds no Pyodide bundle with our wheel: run `python build.py build`")
