"""A page behind another tab (visibilityState hidden: the browser throttles its timers) against
the same page in front, in the same run: drain rate of `echo` and latency, as ratios.

Each round starts a fresh page in its own headless Chromium (a slot per core), measured with no
DevTools session attached (see bench_vs_go); the hidden one has another tab brought to the front
once it polls. The figures go to bench-results/hidden.json.
"""

from __future__ import annotations

import asyncio
import json
import statistics

from bench_vs_go import OUT, ROUNDS, measure
from common import dev_env, server_url
from contenders import page_executor

from tools.serve import serve_bundle
from wasm_executor import ColoniesClient


async def main() -> None:
    env = dev_env()
    rounds = []
    with serve_bundle() as page_url:
        async with ColoniesClient(server_url(env)) as client:
            for _ in range(ROUNDS):
                visible = await measure(client, env, page_executor(env, page_url, None))
                hidden = await measure(client, env, page_executor(env, page_url, None, hidden=True))
                rounds.append({"visible": visible, "hidden": hidden})
    drain = statistics.median(r["hidden"]["drain"] / r["visible"]["drain"] for r in rounds)
    p50 = statistics.median(r["hidden"]["p50"] / r["visible"]["p50"] for r in rounds)
    print("\n== a hidden page (behind another tab) against the same page in front, a slot per core")
    for r in rounds:
        print(f"  visible {r['visible']['drain']:6.1f}/s p50 {r['visible']['p50'] * 1e3:5.1f} ms   "
              f"hidden {r['hidden']['drain']:6.1f}/s p50 {r['hidden']['p50'] * 1e3:5.1f} ms")
    print(f"  hidden/visible drain {drain:.2f}x, latency p50 {p50:.2f}x (medians of {len(rounds)} rounds)")
    OUT.mkdir(exist_ok=True)
    (OUT / "hidden.json").write_text(json.dumps({"rounds": rounds, "drain_ratio": drain, "p50_ratio": p50}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
