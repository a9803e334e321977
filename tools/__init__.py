"""Helpers that drive the page: shared by the browser tests, `build.py demo --headless` and the benchmarks."""
