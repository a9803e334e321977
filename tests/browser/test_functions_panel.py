"""The page's Functions panel: code applied while serving becomes functions the colony can call,
with no reload; dropped functions are withdrawn; code that fails to load changes nothing; the
code is remembered across a reload. Real Chromium, the real server and CLI (`function ls`/`exec`)."""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import Browser

from tests.helpers.colony import unique
from tools.browser import apply_functions as apply
from tools.browser import start_executor, wait_state
from tools.colonies_cli import exec_argv
from tools.layout import ARTIFACTS

pytestmark = [pytest.mark.server, pytest.mark.browser]

TRIPLE = '''
@registry.register(description="Three times x")
def triple(x):
    return number(x, "triple: x") * 3
'''
QUADRUPLE = '''
@registry.register(description="Four times x")
def quadruple(x):
    return number(x, "quadruple: x") * 4
'''
BROKEN = '''
@registry.register()
def oops(x)
    return x
'''


def listed(colony, executortype: str) -> set[str]:
    """The function names `colonies function ls` shows for one executor type."""
    out = colony.cli("function", "ls").stdout
    types = re.findall(r"│ ExecutorType │ (\S+)", out)
    names = re.findall(r"│ FunctionName │ (\S+)", out)
    return {name for t, name in zip(types, names, strict=True) if t == executortype}


async def call(colony, executortype: str, func: str, *args: str) -> tuple[int, str]:
    out = await asyncio.to_thread(colony.cli, *exec_argv(func, list(args), executortype))
    return out.returncode, out.stdout.strip()


async def test_functions_applied_in_the_panel_are_served_and_withdrawn_without_a_reload(
    browser: Browser, colony, page_url: str,
) -> None:
    ctx = await browser.new_context()
    page = await ctx.new_page()
    name = etype = unique("wasm-panel")
    try:
        await start_executor(page, page_url, colony.url, colony.name, name, etype, colony.colony_prvkey, 2)
        assert await wait_state(page, "polling", "error", timeout=120) == "polling"
        assert "triple" not in await asyncio.to_thread(listed, colony, etype)

        status = await apply(page, TRIPLE)
        assert "from this panel: triple" in status and "Offered to the colony: triple" in status
        assert await call(colony, etype, "triple", "4") == (0, "12")
        # Both slots serve it (two at once), and the colony lists it.
        assert await asyncio.gather(*(call(colony, etype, "triple", str(i)) for i in range(4))) == [
            (0, str(3 * i)) for i in range(4)]
        assert {"triple", "echo", "reverse"} <= await asyncio.to_thread(listed, colony, etype)

        status = await apply(page, QUADRUPLE)
        assert "Offered to the colony: quadruple" in status and "Withdrawn: triple" in status
        functions = await asyncio.to_thread(listed, colony, etype)
        assert "quadruple" in functions and "triple" not in functions
        assert await call(colony, etype, "quadruple", "5") == (0, "20")

        status = await apply(page, BROKEN)
        assert status.startswith("Not applied, nothing changed: line 3:")
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "functions-panel.png"), full_page=True)
        assert await call(colony, etype, "quadruple", "2") == (0, "8")
        assert "quadruple" in await asyncio.to_thread(listed, colony, etype)
        assert await page.text_content("#state") == "polling"  # the executor never stopped

        # The last code that loaded is remembered: after a reload it is served again.
        await page.reload()  # it was serving: it serves again with no click
        assert await wait_state(page, "polling", "error", timeout=120) == "polling"
        assert await page.get_by_label("Functions code (Python)").input_value() == QUADRUPLE
        assert await call(colony, etype, "quadruple", "3") == (0, "12")
    finally:
        await ctx.close()
        colony.cli("executor", "remove", "--name", name, prvkey=colony.colony_prvkey)
