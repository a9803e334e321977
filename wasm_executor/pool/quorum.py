"""Results you can trust: a unit's items run on several executors, and a result is accepted only
when enough of them said exactly the same. Pure.

With ``replicas=R`` a unit is run by R different executors, one after the other (each copy is
kept away from the executors that ran the others, `conditions.executornames`). Their results are
compared as canonical JSON (`canonical`: each item's value, or the type and message of what it
raised; tracebacks differ between runtimes and are left out). R equal answers accept it. Short
of that, one more executor is asked per missing vote, up to ``2R - 1`` in all (for R = 2: a
third decides); an executor whose answer lost is a *suspect*. No R equal answers among
``2R - 1`` (or no executor left to ask) fails the unit's items with `NoQuorum`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..objects import Process
from .errors import RemoteError

NO_QUORUM = "NoQuorum"


def canonical(results: list[Any]) -> str:
    """The one text two executors must both produce for their results to count as the same."""
    shown = [["raised", r.type_name, r.message] if isinstance(r, RemoteError) else ["ok", r] for r in results]
    return json.dumps(shown, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@dataclass
class Vote:
    executorid: str
    text: str  # `canonical` of its results
    results: list[Any]
    process: Process


@dataclass
class Verdict:
    results: list[Any]  # the accepted results, or a `NoQuorum` error per item
    agreed: list[Vote]  # the votes for them
    odd: list[Vote]  # the votes against them (their executors are suspects)


@dataclass
class Tally:
    """The votes on one unit's items."""

    replicas: int
    votes: list[Vote] = field(default_factory=list)

    @property
    def most_votes(self) -> int:
        return 2 * self.replicas - 1

    @property
    def voters(self) -> set[str]:
        return {v.executorid for v in self.votes}

    def add(self, vote: Vote) -> None:
        """A vote; an executor votes once (a copy it ran again, after a requeue, does not count twice)."""
        if vote.executorid not in self.voters or not vote.executorid:
            self.votes.append(vote)

    def verdict(self) -> Verdict | None:
        """The outcome once there is one; None while another executor should be asked."""
        if not self.votes:
            return None
        text, count = Counter(v.text for v in self.votes).most_common(1)[0]
        if count >= self.replicas:
            return Verdict(next(v.results for v in self.votes if v.text == text),
                           [v for v in self.votes if v.text == text], [v for v in self.votes if v.text != text])
        if len(self.votes) + (self.replicas - count) > self.most_votes:
            return self.no_quorum(f"no {self.replicas} of {len(self.votes)} executors gave the same result")
        return None

    def no_quorum(self, why: str) -> Verdict:
        size = len(self.votes[0].results)
        who = ", ".join(sorted(self.voters)) or "none"
        error = RemoteError(NO_QUORUM, f"{why} (executors: {who})")
        return Verdict([error] * size, [], list(self.votes))
