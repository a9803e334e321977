"""The browser tests' shared parts: one Chromium for the session, and the bundle served once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser

from tools.browser import chromium
from tools.serve import serve_bundle


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


@pytest.fixture(scope="session")
def page_url() -> Iterator[str]:
    with serve_bundle() as url:
        yield url
