"""`python build.py demo --headless`: the whole loop, unattended.

Opens the page in headless Chromium, starts the executor with the local colony's key, runs the
five functions through the real `colonies` CLI, and prints what the CLI printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.browser import ROOT, chromium, dev_env, exec_argv, run_cli, serve_bundle, start_executor, wait_state

FIVE = [
    ["echo", "Hello from browser!"],
    ["add", "5", "3"],
    ["multiply", "7", "6"],
    ["greet", "World"],
    ["browser_info"],
]


async def main(port: int) -> int:
    env = {**os.environ, **dev_env()}
    exe = str(ROOT / ".tools" / "bin" / "colonies")
    server_url = f"http://{env['COLONIES_SERVER_HOST']}:{env['COLONIES_SERVER_PORT']}"
    name = f"demo-{secrets.token_hex(3)}"
    with serve_bundle(port) as url:
        print(f"page: {url}")
        async with chromium() as browser:
            page = await browser.new_page()
            await start_executor(page, url, server_url, env["COLONIES_COLONY_NAME"], name, "wasm", env["COLONIES_COLONY_PRVKEY"])
            await wait_state(page, "polling", "error")
            if await page.text_content("#state") == "error":
                print(f"executor failed: {await page.text_content('#detail')}")
                return 1
            print(f"executor {name} is polling; id {await page.text_content('#executor-id')}")
            failures = 0
            for func, *args in FIVE:
                argv = exec_argv(func, args, "wasm")
                code, out, err = await run_cli(env, exe, *argv)
                print("$ " + shlex.join(["colonies", *argv]))
                print(f"  {out}" if code == 0 else f"  FAILED: {err.strip()[-300:]}")
                failures += code != 0
            shot = ROOT / "test-artifacts" / "demo-headless.png"
            shot.parent.mkdir(exist_ok=True)
            await page.screenshot(path=str(shot), full_page=True)
            await page.get_by_role("button", name="Stop Executor").click()
            await wait_state(page, "stopped", timeout=30)
            colony_env = {**env, "COLONIES_PRVKEY": env["COLONIES_COLONY_PRVKEY"]}
            await run_cli(colony_env, exe, "executor", "remove", "--name", name)  # leave the colony as we found it
            print(f"done: {len(FIVE) - failures} of {len(FIVE)} succeeded; screenshot {shot.relative_to(ROOT)}")
            return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    sys.exit(asyncio.run(main(parser.parse_args().port)))
