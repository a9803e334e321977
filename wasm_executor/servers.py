"""Which of several ColonyOS servers (replicas of one cluster) a client talks to.

A user may give one URL (a server, or the load balancer in front of replicas) or several: the
replicas' own URLs, for a cluster without a balancer. Each client starts at a random one of them
(so that a fleet spreads over the replicas), leaves a server that failed to answer for a cool-off
that grows while it keeps failing, and goes back to it once it answers again: the earliest
server of the client's order whose cool-off is over is the one it uses. Retrying a call stays the
caller's job (the one retry rule): the next try simply reaches the next server.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Sequence

FIRST_COOL_OFF_S = 1.0
MAX_COOL_OFF_S = 30.0


def split_urls(text: str | Sequence[str]) -> list[str]:
    """Server URLs from a comma- or space-separated text (a form field, a variable) or a list."""
    items = re.split(r"[\s,]+", text) if isinstance(text, str) else [u for t in text for u in re.split(r"[\s,]+", t)]
    return [u.rstrip("/") for u in items if u.strip()]


class Servers:
    def __init__(self, urls: str | Sequence[str], *, shuffle: bool = True) -> None:
        listed = split_urls(urls)
        if not listed:
            raise ValueError("no server URL given")
        start = random.randrange(len(listed)) if shuffle else 0
        self.urls = listed[start:] + listed[:start]
        self._failures = dict.fromkeys(self.urls, 0)
        self._down_until = dict.fromkeys(self.urls, 0.0)
        self._using = self.urls[0]
        # Told (from, to, back) when the server in use changes: left after a failure, or (back) an
        # earlier one answers again.
        self.on_move: Callable[[str, str, bool], None] = lambda _old, _new, _back: None

    def __repr__(self) -> str:
        return f"Servers({', '.join(self.urls)})"

    @property
    def several(self) -> bool:
        return len(self.urls) > 1

    def current(self) -> str:
        """The first server not cooling off; when all are, the one that comes back first."""
        now = time.monotonic()
        for url in self.urls:
            if self._down_until[url] <= now:
                return url
        return min(self.urls, key=self._down_until.__getitem__)

    def failed(self, url: str) -> None:
        """`url` did not answer: leave it for a while, longer each time in a row."""
        if url in self._failures:
            self._failures[url] += 1
            cool = min(FIRST_COOL_OFF_S * 2 ** (self._failures[url] - 1), MAX_COOL_OFF_S)
            self._down_until[url] = time.monotonic() + cool
            self._moved(self.current())

    def answered(self, url: str) -> None:
        if self._failures.get(url):
            self._failures[url] = 0
            self._down_until[url] = 0.0
        self._moved(url)

    def _moved(self, url: str) -> None:
        if url != self._using and self.several:
            old, self._using = self._using, url
            self.on_move(old, url, self.urls.index(url) < self.urls.index(old))
