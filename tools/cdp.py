"""A bare Chrome DevTools Protocol session to one page of a `browser.detached_chromium`.

Playwright keeps the pages it drives "visible" and ignores lifecycle changes made through its
own CDP sessions; a plain WebSocket to the page's DevTools target does not: with it a test can
freeze a page (`Page.setWebLifecycleState`), resume it, and read it (`Runtime.evaluate`).
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp


class CDPError(RuntimeError):
    pass


class PageSession:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws, self._ids = ws, itertools.count(1)

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """One command; its result (events that arrive meanwhile are skipped)."""
        msg_id = next(self._ids)
        await self._ws.send_str(json.dumps({"id": msg_id, "method": method, "params": params or {}}))
        while True:
            reply = json.loads((await self._ws.receive(timeout=30)).data)
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise CDPError(f"{method}: {reply['error']}")
                return dict(reply.get("result") or {})

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result.get("result", {}).get("value")


@contextlib.asynccontextmanager
async def page_session(endpoint: str, url_prefix: str) -> AsyncIterator[PageSession]:
    """A session to the first page whose URL starts with `url_prefix`."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{endpoint}/json/list") as response:
            targets = await response.json()
        page = next((t for t in targets if t.get("type") == "page" and t.get("url", "").startswith(url_prefix)), None)
        if page is None:
            raise CDPError(f"no page at {url_prefix} among {[t.get('url') for t in targets]}")
        async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            yield PageSession(ws)


async def open_tab_in_front(endpoint: str, url: str = "about:blank") -> None:
    """A new tab, brought to the front: the page that was in front is hidden (visibilityState)."""
    async with aiohttp.ClientSession() as http, http.put(f"{endpoint}/json/new?{url}") as response:
        response.raise_for_status()
