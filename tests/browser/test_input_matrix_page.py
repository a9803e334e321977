"""The input matrix (tests/integration/test_input_matrix.py) through a page: the same processes
end the same way on the real server, the page shows them as text, and it goes on serving."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from tests.helpers.colony import unique
from tests.helpers.input_cases import CASES
from tools.browser import start_executor, wait_state
from tools.layout import ARTIFACTS
from wasm_executor import SUCCESS, ColoniesClient, FunctionSpec

pytestmark = [pytest.mark.server, pytest.mark.browser]


async def test_the_input_matrix_through_a_page(browser: Browser, colony, client: ColoniesClient, page_url: str) -> None:
    user = colony.user_prvkey
    name = etype = unique("wasm-matrix")
    ctx = await browser.new_context()
    page = await ctx.new_page()
    try:
        await start_executor(page, page_url, colony.url, colony.name, name, etype, colony.colony_prvkey, 1, allow_code=True)
        assert await wait_state(page, "polling", "error", timeout=120) == "polling"
        for case, func, args, kwargs, state, expected in CASES:
            spec = FunctionSpec.new(func, etype, colony.name)
            spec.args, spec.kwargs = args, kwargs
            ended = await client.wait_for_end(await client.submit(spec, user), 60, user)
            got = await client.get_process(ended.processid, user)
            assert (got.state, got.retries) == (state, 0), case
            assert (got.output if state == SUCCESS else got.errors) == (expected if state == SUCCESS else [expected]), case
        spec = FunctionSpec.new("add", etype, colony.name)
        spec.args = ["5", "3"]
        done = await client.wait_for_end(await client.submit(spec, user), 30, user)
        assert (await client.get_process(done.processid, user)).output == [8]  # still serving
        await page.wait_for_function("n => Number(document.getElementById('done-count').textContent) >= n",
                                     arg=sum(c[4] == SUCCESS for c in CASES) + 1)
        assert await page.locator("#processes script, #processes img").count() == 0  # data shown as text
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "input-matrix-page.png"), full_page=True)
    finally:
        await ctx.close()
        colony.cli("executor", "remove", "--name", name, prvkey=colony.colony_prvkey)
