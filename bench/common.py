"""Helpers shared by the benchmarks: timing, the local colony's settings, printing ratios."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.devenv import read_dev_env as dev_env  # noqa: E402, F401 - re-exported for the benchmarks
from tools.devenv import server_url  # noqa: E402, F401


def per_call(fn: Callable[[], object], n: int) -> float:
    """Median seconds per call over `n` calls, in 5 batches."""
    batches = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(max(1, n // 5)):
            fn()
        batches.append((time.perf_counter() - start) / max(1, n // 5))
    return statistics.median(batches)


def report(title: str, rows: list[tuple[str, float, float, str]]) -> None:
    """rows: (what, ours, reference, reference name); values in seconds."""
    print(f"\n== {title}")
    for what, ours, ref, ref_name in rows:
        print(f"  {what:<44} {ours * 1e3:10.4f} ms   ratio {ours / ref:6.2f}x  vs {ref_name} ({ref * 1e3:.4f} ms)")
