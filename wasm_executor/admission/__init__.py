"""The admission service: lets executors join a colony with an invite, so nobody hands out the colony key.

CPython only (aiohttp's server, SQLite). `python -m wasm_executor.admission --help` says how to run it;
`wasm_executor/joining.py` is the executor's half of the protocol.
"""

from .store import Decision, Invite, Store

__all__ = ["Decision", "Invite", "Store"]
