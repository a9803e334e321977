"""Python sent by the colony, run by pages: consent on the page, the CLI's `python`, and a
`Pool` spread over two pages. Real Chromium, the real server and CLI."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from playwright.async_api import Browser

from tests.helpers.colony import unique
from tools.browser import start_executor, wait_state
from tools.layout import ARTIFACTS, TEST_DISTRIBUTION_DIR, TEST_INDEX_DIR
from wasm_executor import RUNNING, SUCCESS, ColoniesClient, Pool, RemoteError
from wasm_executor.remote import NOT_ALLOWED

pytestmark = [pytest.mark.server, pytest.mark.browser]


def cube(x):
    return x**3


def refuse(word):
    raise ValueError(f"no {word}")


def chunks(n):
    import more_itertools  # bundled for the tests: python build.py test builds with --with more-itertools

    return [list(c) for c in more_itertools.chunked(range(n), 2)]


def count_busily(n, seconds):
    import time

    for i in range(n):
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass
        yield i * i


def needs_sympy():
    import sympy

    return str(sympy.sqrt(8))


async def test_the_page_runs_python_only_with_its_owners_consent(browser: Browser, colony, page_url: str) -> None:
    ctx = await browser.new_context()
    page = await ctx.new_page()
    name = etype = unique("wasm-code")
    try:
        await start_executor(page, page_url, colony.url, colony.name, name, etype, colony.colony_prvkey, 1, allow_code=False)
        await wait_state(page, "polling")
        code, _, err = await colony.exec(etype, "python", "sum(range(10))")
        assert code != 0 and NOT_ALLOWED in err
        await page.get_by_role("button", name="Stop Executor").click()
        await wait_state(page, "stopped")

        await start_executor(page, page_url, colony.url, colony.name, name, etype, colony.colony_prvkey, 1, allow_code=True)
        await wait_state(page, "polling")
        assert (await colony.exec(etype, "python", "sum(range(10))"))[:2] == (0, "45")
        await page.reload()  # the consent is remembered with the other settings (and it serves again)
        await wait_state(page, "polling", timeout=120)
        assert await page.get_by_label("Run Python code sent by the colony").is_checked()
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "python-consent.png"), full_page=True)
    finally:
        await ctx.close()
        colony.cli("executor", "remove", "--name", name, prvkey=colony.colony_prvkey)


async def test_a_pool_spreads_over_two_pages(browser: Browser, colony, page_url: str, client: ColoniesClient) -> None:
    etype = unique("wasm-pool")
    names = [unique("pool-page"), unique("pool-page")]
    contexts = [await browser.new_context() for _ in names]
    try:
        pages = [await ctx.new_page() for ctx in contexts]
        for page, name in zip(pages, names, strict=True):
            await start_executor(page, page_url, colony.url, colony.name, name, etype, colony.colony_prvkey, 1, allow_code=True)
        for page in pages:
            assert await wait_state(page, "polling", "error", timeout=120) == "polling"
        pool = Pool(client, colony.name, colony.user_prvkey, executortype=etype)
        assert await pool.run(cube, 3) == 27
        assert await pool.map(cube, range(100), progress=False) == [x**3 for x in range(100)]
        done = await client.get_processes(colony.name, 100, SUCCESS, colony.user_prvkey, executortype=etype)
        executors = await client.get_executors(colony.name, colony.user_prvkey)
        ours = {e.executorid for e in executors if e.executorname in names}
        assert len(ours) == 2 and {p.assignedexecutorid for p in done} == ours  # both pages served some
        with pytest.raises(RemoteError) as caught:
            await pool.run(refuse, "thanks")
        assert (caught.value.type_name, caught.value.message) == ("ValueError", "no thanks")
        assert "raise ValueError" in caught.value.traceback  # the remote traceback shows the failing line

        # A generator's items arrive while it runs (through the process's channel).
        parts, running_then = [], []
        async for part in pool.stream(count_busily, 4, 0.3):
            parts.append(part)
            running_then.append(len(await client.get_processes(colony.name, 5, RUNNING, colony.user_prvkey, executortype=etype)))
        assert parts == [0, 1, 4, 9] and running_then[:3] == [1, 1, 1]

        # Packages: one the bundle carries loads offline; one it does not is refused by name.
        assert await pool.run(chunks, 5, requires=["more-itertools"]) == [[0, 1], [2, 3], [4]]
        with pytest.raises(RemoteError) as caught:
            await pool.run(needs_sympy, requires=["sympy"])
        assert caught.value.message == (
            "python: requires sympy, which this page's bundle does not carry "
            "(its owner adds it with `python build.py build --with NAME`, or names a Pyodide distribution that has it)"
        )
        ARTIFACTS.mkdir(exist_ok=True)
        await pages[0].screenshot(path=str(ARTIFACTS / "pool-page.png"), full_page=True)
    finally:
        for ctx in contexts:
            await ctx.close()
        for name in names:
            colony.cli("executor", "remove", "--name", name, prvkey=colony.colony_prvkey)


def reach_for_the_key():
    import js

    found = {}
    for name in ("indexedDB", "caches", "Worker", "SharedWorker", "IDBFactory"):
        found[name] = getattr(js, name, None) is not None
    try:
        js.trustedTypes.createPolicy("wasm-executor", {})
        found["policy"] = True
    except Exception:
        found["policy"] = False
    return found


async def test_shipped_code_cannot_reach_the_key_store_or_start_workers(browser: Browser, colony, page_url: str, client) -> None:
    ctx = await browser.new_context()
    page = await ctx.new_page()
    name = etype = unique("wasm-locked")
    try:
        await start_executor(page, page_url, colony.url, colony.name, name, etype, colony.colony_prvkey, 1, allow_code=True)
        assert await wait_state(page, "polling", "error", timeout=120) == "polling"
        pool = Pool(client, colony.name, colony.user_prvkey, executortype=etype)
        assert await pool.run(reach_for_the_key) == dict.fromkeys(
            ["indexedDB", "caches", "Worker", "SharedWorker", "IDBFactory", "policy"], False)
    finally:
        await ctx.close()
        colony.cli("executor", "remove", "--name", name, prvkey=colony.colony_prvkey)


def toml_of(data):
    import tomli_w  # not in the bundle: installed from the page owner's package index

    return tomli_w.dumps(data)


class IndexHandler(http.server.SimpleHTTPRequestHandler):
    """A static PEP 503 index that pages of another origin may read (CORS)."""

    seen: ClassVar[list[str]] = []  # request lines, for the test to check

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, _format: str, *args: object) -> None:
        self.seen.append(str(args[0]))


@contextlib.contextmanager
def served_with_cors(root: Path) -> Iterator[str]:
    """`root` over HTTP on a free port, readable by pages of another origin (CORS)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(IndexHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def package_index(root: Path) -> Iterator[str]:
    """The wheels `python build.py test` put in TEST_INDEX_DIR, as a simple index on a free port."""
    wheels = sorted(TEST_INDEX_DIR.glob("*.whl"))
    assert wheels, f"{TEST_INDEX_DIR} is empty: run `python build.py test` (it downloads the test index's wheels)"
    (root / "files").mkdir()
    for wheel in wheels:
        shutil.copy2(wheel, root / "files" / wheel.name)
        project = wheel.name.split("-")[0].replace("_", "-").lower()
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        (root / "simple" / project).mkdir(parents=True)
        (root / "simple" / project / "index.html").write_text(
            f'<!DOCTYPE html><html><body><a href="../../files/{wheel.name}#sha256={digest}">{wheel.name}</a></body></html>')
    with served_with_cors(root) as url:
        yield f"{url}simple"


async def test_requires_installs_what_the_bundle_lacks_from_the_owners_package_index(
    browser: Browser, colony, page_url: str, client: ColoniesClient, tmp_path: Path,
) -> None:
    ctx = await browser.new_context()
    page = await ctx.new_page()
    name = etype = unique("wasm-index")
    IndexHandler.seen = []
    try:
        with package_index(tmp_path) as index_url:
            await start_executor(page, page_url, colony.url, colony.name, name, etype, colony.colony_prvkey, 1,
                                 allow_code=True, package_index=index_url)
            assert await wait_state(page, "polling", "error", timeout=120) == "polling"
            pool = Pool(client, colony.name, colony.user_prvkey, executortype=etype)
            assert await pool.run(toml_of, {"answer": 42}, requires=["tomli-w"]) == "answer = 42\n"
            with pytest.raises(RemoteError) as caught:
                await pool.run(needs_sympy, requires=["sympy"])
            assert caught.value.message.startswith(
                f"python: requires sympy, which neither this page's bundle nor its package index {index_url} has (")
        assert any("/simple/tomli-w/" in line for line in IndexHandler.seen)
        assert any(line.startswith("GET /files/tomli_w-") for line in IndexHandler.seen)
    finally:
        await ctx.close()
        colony.cli("executor", "remove", "--name", name, prvkey=colony.colony_prvkey)


def unstructure(x):
    from dataclasses import dataclass

    import cattrs  # neither in the bundle nor in the package index: from the owner's Pyodide distribution

    @dataclass
    class Point:
        x: int
        y: int

    return cattrs.unstructure(cattrs.structure({"x": x, "y": 2 * x}, Point))




async def test_requires_loads_a_package_and_its_dependencies_from_the_owners_pyodide_distribution(
    browser: Browser, colony, page_url: str, client: ColoniesClient,
) -> None:
    """The page pointed at a Pyodide distribution (a lock and wheels, as a release mirror has them):
    `requires=["cattrs"]` loads cattrs, attrs and typing-extensions from there; the page's own
    wheels still come from its bundle."""
    assert (TEST_DISTRIBUTION_DIR / "pyodide-lock.json").exists(), "run `python build.py test` (it makes the distribution)"
    ctx = await browser.new_context()
    page = await ctx.new_page()
    name = etype = unique("wasm-dist")
    IndexHandler.seen = []
    try:
        with served_with_cors(TEST_DISTRIBUTION_DIR) as dist_url:
            await start_executor(page, page_url, colony.url, colony.name, name, etype, colony.colony_prvkey, 1,
                                 allow_code=True, pyodide_distribution=dist_url)
            assert await wait_state(page, "polling", "error", timeout=120) == "polling"
            pool = Pool(client, colony.name, colony.user_prvkey, executortype=etype)
            assert await pool.run(unstructure, 4, requires=["cattrs"]) == {"x": 4, "y": 8}
        fetched = {line.split()[1].lstrip("/").split("-")[0] for line in IndexHandler.seen if line.startswith("GET ")}
        assert {"pyodide", "cattrs", "attrs", "typing_extensions"} <= fetched, IndexHandler.seen
        assert not any("wasm_executor" in line or "ecdsa" in line for line in IndexHandler.seen)
    finally:
        await ctx.close()
        colony.cli("executor", "remove", "--name", name, prvkey=colony.colony_prvkey)
