"""`Pool` and what it is made of; see `core` for the whole story.

Rooms: `shipping` (what of a function travels), `units` (items into processes and back),
`ends` (hearing many processes end), `manifest` (a map's record on disk), `quorum` (results
several executors agree on), `provenance` (who ran a result), `jobs` (one map on the colony),
`core` (`Pool`), `sync` (`PoolExecutor`, the same for plain scripts).
"""

from .core import Pool
from .errors import RemoteError
from .provenance import Provenance
from .shipping import NotShippable, function_source, requires

__all__ = ["NotShippable", "Pool", "Provenance", "RemoteError", "function_source", "requires"]
