"""`python build.py demo --headless`: the whole loop, unattended.

Opens the page in headless Chromium, starts the executor with the local colony's key, runs the
five functions through the real `colonies` CLI, and prints what the CLI printed.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.browser import chromium, start_executor, wait_state
from tools.colonies_cli import DEMO_CALLS, exec_argv, run_cli
from tools.devenv import read_dev_env, server_url
from tools.layout import ARTIFACTS, ROOT
from tools.serve import serve_bundle


async def main(port: int) -> int:
    env = read_dev_env()
    name = f"demo-{secrets.token_hex(3)}"
    with serve_bundle(port) as url:
        print(f"page: {url}")
        async with chromium() as browser:
            page = await browser.new_page()
            await start_executor(page, url, server_url(env), env["COLONIES_COLONY_NAME"], name, "wasm", env["COLONIES_COLONY_PRVKEY"])
            await wait_state(page, "polling", "error")
            if await page.text_content("#state") == "error":
                print(f"executor failed: {await page.text_content('#detail')}")
                return 1
            print(f"executor {name} is polling; id {await page.text_content('#executor-id')}")
            failures = 0
            for func, args in DEMO_CALLS:
                argv = exec_argv(func, args, "wasm")
                proc = await asyncio.to_thread(run_cli, argv, env)
                print("$ " + shlex.join(["colonies", *argv]))
                print(f"  {proc.stdout.strip()}" if proc.returncode == 0 else f"  FAILED: {proc.stderr.strip()[-300:]}")
                failures += proc.returncode != 0
            shot = ARTIFACTS / "demo-headless.png"
            shot.parent.mkdir(exist_ok=True)
            await page.screenshot(path=str(shot), full_page=True)
            await page.get_by_role("button", name="Stop Executor").click()
            await wait_state(page, "stopped", timeout=30)
            # leave the colony as we found it
            await asyncio.to_thread(run_cli, ["executor", "remove", "--name", name], env, env["COLONIES_COLONY_PRVKEY"])
            print(f"done: {len(DEMO_CALLS) - failures} of {len(DEMO_CALLS)} succeeded; screenshot {shot.relative_to(ROOT)}")
            return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    try:
        sys.exit(asyncio.run(main(parser.parse_args().port)))
    except RuntimeError as exc:  # e.g. the port is taken: a sentence, not a traceback
        print(f"demo failed: {exc}", file=sys.stderr)
        sys.exit(1)
