"""`Pool.map(..., replicas=2)` over three pages in real Chromium, one of them tampered by its owner
(its Functions panel replaces `python` with one that lies about some items): every accepted result
is right, the tampered page is named, and a result's provenance names the pages (Pyodide) that
ran it."""

from __future__ import annotations

import contextlib

import pytest
from playwright.async_api import Browser

from tests.helpers.colony import unique
from tests.helpers.tampering import TAMPERED, triple
from tools.browser import apply_functions as apply
from tools.browser import start_executor, wait_state
from wasm_executor import ColoniesClient, Pool

pytestmark = [pytest.mark.server, pytest.mark.browser]

N = 30


async def test_replicas_over_three_pages_outvote_the_tampered_one(browser: Browser, colony, client: ColoniesClient, page_url: str) -> None:
    etype = unique("wasm-trust")
    names = [unique("page") for _ in range(3)]
    liar = names[2]
    async with contextlib.AsyncExitStack() as stack:
        pages = []
        for name in names:
            ctx = await browser.new_context()
            stack.push_async_callback(ctx.close)
            page = await ctx.new_page()
            await start_executor(page, page_url, colony.url, colony.name, name, etype, colony.colony_prvkey, 1, allow_code=True)
            pages.append(page)
        for page in pages:
            assert await wait_state(page, "polling", "error", timeout=120) == "polling"
        status = await apply(pages[2], TAMPERED)
        assert "Not applied" not in status, status

        pool = Pool(client, colony.name, colony.user_prvkey, etype)
        results = await pool.map(triple, range(N), chunksize=3, replicas=2, progress=False)
        told = [await pool.provenance(i) for i in range(0, N, 3)]

    assert results == [3 * x for x in range(N)]
    assert pool.suspects == {liar}
    for entries in told:
        accepted = [e for e in entries if e.accepted]
        assert len(accepted) >= 2 and {e.executorname for e in accepted} <= set(names[:2]), entries
        assert all(e.runtime.startswith("pyodide ") and "Python 3." in e.runtime for e in entries), [e.runtime for e in entries]
    assert any(e.executorname == liar and not e.accepted for entries in told for e in entries)
