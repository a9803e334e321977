"""The executor in headless Chromium, against references measured in the same run.

- the bundle: bytes of dist/web, and page opened -> polling, cold (a new profile) and warm
  (a reload: the HTTP cache revalidates);
- start-up: page opened to "ready" (Pyodide + our wheel + ecdsa, in a Web Worker) vs bare
  `loadPyodide()` on the same bundle;
- signing inside Pyodide vs the same calls in CPython;
- end-to-end latency of one `add` (submit → SUCCESS seen by the submitter) served by the
  browser executor vs served by the same ColonyExecutor in CPython.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import time

from common import dev_env, report, server_url
from playwright.async_api import Browser

from tools.browser import chromium, start_executor, wait_state
from tools.layout import WEB_OUT
from tools.serve import serve_bundle
from wasm_executor import ColoniesClient, FunctionSpec, gen_prvkey, gen_signature
from wasm_executor.builtins import default_registry
from wasm_executor.engine import ColonyExecutor, ExecutorConfig, InlineSlots

ROUNDS = 3
N_SIGN = 200
N_LATENCY = 20
KEY = "fcc79953d8a751bf41db661592dc34d30004b1a651ffa0725b03ac227641499d"

BARE_BOOT = """async () => {
  const t0 = performance.now();
  const { loadPyodide } = await import("./pyodide/pyodide.mjs");
  const py = await loadPyodide({ indexURL: new URL("./pyodide/", location.href).href });
  const bare = performance.now() - t0;
  const heapBare = py._module.HEAP8.length;
  await py.loadPackage(["wasm-executor"]);
  py.runPython("import wasm_executor.client");
  const t1 = performance.now();
  const heapSdk = py._module.HEAP8.length;
  const per = py.runPython(`
import time
from wasm_executor.crypto import gen_signature
gen_signature("warm", "__KEY__")
t = time.perf_counter()
for i in range(__N__):
    gen_signature(f"message {i}", "__KEY__")
(time.perf_counter() - t) / __N__
`);
  return { bare: bare / 1000, withSdk: (t1 - t0) / 1000, sign: per, heapBare, heapSdk };
}""".replace("__KEY__", KEY).replace("__N__", str(N_SIGN))


def cpython_sign_time() -> float:
    gen_signature("warm", KEY)
    start = time.perf_counter()
    for i in range(N_SIGN):
        gen_signature(f"message {i}", KEY)
    return (time.perf_counter() - start) / N_SIGN


async def latency(client: ColoniesClient, colony: str, executortype: str, user: str) -> float:
    samples = []
    for i in range(N_LATENCY):
        spec = FunctionSpec.new("add", executortype, colony)
        spec.args = [str(i), "1"]
        start = time.perf_counter()
        process = await client.submit(spec, user)
        done = await client.wait_for_end(process, 60, user)
        samples.append(time.perf_counter() - start)
        assert done.output == [i + 1]
    return statistics.median(samples)


def bundle_bytes() -> int:
    return sum(f.stat().st_size for f in WEB_OUT.rglob("*") if f.is_file())


async def open_to_polling(browser: Browser, page_url: str, url: str, colony: str, owner: str) -> tuple[float, float]:
    """Seconds from navigation to "polling": a cold profile, then a reload of the same page."""
    ctx = await browser.new_context()
    page = await ctx.new_page()
    name = f"bench-{secrets.token_hex(3)}"
    start = time.perf_counter()
    await start_executor(page, page_url, url, colony, name, name, owner)
    await wait_state(page, "polling")
    cold = time.perf_counter() - start
    start = time.perf_counter()
    await page.reload()  # a tab that was serving serves again after a reload, with no click
    await wait_state(page, "polling", timeout=120)
    warm = time.perf_counter() - start
    await ctx.close()
    async with ColoniesClient(url) as client:
        await client.remove_executor(colony, name, owner)
    return cold, warm


async def main() -> None:
    env = dev_env()
    url, colony = server_url(env), env["COLONIES_COLONY_NAME"]
    user, owner = env["COLONIES_PRVKEY"], env["COLONIES_COLONY_PRVKEY"]
    cpython_sign = min(cpython_sign_time() for _ in range(3))
    with serve_bundle() as page_url:
        async with chromium() as browser:
            ready, bare, with_sdk, signs, heaps = [], [], [], [], []
            for _ in range(ROUNDS):
                ctx = await browser.new_context()
                page = await ctx.new_page()
                start = time.perf_counter()
                await page.goto(page_url)
                await wait_state(page, "ready", timeout=120)
                ready.append(time.perf_counter() - start)
                await ctx.close()
                ctx = await browser.new_context()
                page = await ctx.new_page()
                await page.goto(page_url + "bundle.json")
                got = await page.evaluate(BARE_BOOT)
                bare.append(got["bare"])
                with_sdk.append(got["withSdk"])
                signs.append(got["sign"])
                heaps.append((got["heapBare"], got["heapSdk"]))
                await ctx.close()

            cold, warm = zip(*[await open_to_polling(browser, page_url, url, colony, owner) for _ in range(ROUNDS)], strict=True)

            # End-to-end: the browser executor.
            ctx = await browser.new_context()
            page = await ctx.new_page()
            name, etype = f"bench-{secrets.token_hex(3)}", f"benchtype-{secrets.token_hex(3)}"
            await start_executor(page, page_url, url, colony, name, etype, owner)
            await wait_state(page, "polling")
            async with ColoniesClient(url) as client:
                browser_latency = await latency(client, colony, etype, user)
                await page.get_by_role("button", name="Stop Executor").click()
                await wait_state(page, "stopped", timeout=30)
                await client.remove_executor(colony, name, owner)

                # The same runtime in CPython.
                cfg = ExecutorConfig(
                    server_url=url, colonyname=colony, executorname=f"bench-{secrets.token_hex(3)}", prvkey=gen_prvkey(),
                    executortype=f"benchtype-{secrets.token_hex(3)}", colony_prvkey=owner,
                )
                executor = ColonyExecutor(cfg, InlineSlots(default_registry()))
                runner = asyncio.create_task(executor.run())
                while executor.state != "polling":
                    await asyncio.sleep(0.05)
                cpython_latency = await latency(client, colony, cfg.executortype, user)
                executor.stop()
                await runner
                await executor.client.aclose()
                await client.remove_executor(colony, cfg.executorname, owner)
            await ctx.close()

    print(f"\n  bundle dist/web: {bundle_bytes() / 1e6:.2f} MB")
    print(f"  page opened -> polling: cold {statistics.median(cold):.2f} s, warm (reload) {statistics.median(warm):.2f} s "
          f"(median of {ROUNDS}; includes typing the form)")
    heap_bare, heap_sdk = heaps[-1]
    print(f"\n  WebAssembly memory after loading wasm-executor: {heap_sdk / 2**20:.1f} MiB, "
          f"ratio {heap_sdk / heap_bare:.2f}x vs bare Pyodide ({heap_bare / 2**20:.1f} MiB)")
    report(
        f"browser executor (headless Chromium, median of {ROUNDS} cold starts)",
        [
            ("page opened → executor ready (worker)", statistics.median(ready), statistics.median(bare), "bare loadPyodide()"),
            ("loadPyodide + wasm-executor + ecdsa", statistics.median(with_sdk), statistics.median(bare), "bare loadPyodide()"),
            ("gen_signature inside Pyodide", statistics.median(signs), cpython_sign, "gen_signature in CPython"),
            (f"add: submit → SUCCESS, browser (median of {N_LATENCY})", browser_latency, cpython_latency, "same runtime in CPython"),
        ],
    )


if __name__ == "__main__":
    asyncio.run(main())
