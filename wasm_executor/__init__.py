"""wasm_executor: a pure-Python ColonyOS SDK and executor for CPython and the browser (Pyodide).

The same calls, with the same names, as the ColonyOS Rust SDK; see `ColoniesClient`.
The names load on first use (PEP 562): a browser slot, which imports parts of this package to
run jobs, does not load the client and the network behind it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "APPROVED": "objects",
    "Allocations": "objects",
    "Attribute": "objects",
    "Blueprint": "objects",
    "BlueprintDefinition": "objects",
    "BlueprintDefinitionNames": "objects",
    "BlueprintDefinitionSpec": "objects",
    "BlueprintHandler": "objects",
    "BlueprintMetadata": "objects",
    "CANCELLED": "objects",
    "Capabilities": "objects",
    "ChannelEntry": "objects",
    "ColoniesClient": "client",
    "Colony": "objects",
    "Conditions": "objects",
    "ConnectionFailed": "errors",
    "GatewayError": "errors",
    "CryptoError": "crypto",
    "ENV": "objects",
    "ERR": "objects",
    "Executor": "objects",
    "FAILED": "objects",
    "Function": "objects",
    "FunctionArg": "objects",
    "FunctionSpec": "objects",
    "GPU": "objects",
    "Hardware": "objects",
    "IN": "objects",
    "Log": "objects",
    "NotShippable": "pool",
    "OUT": "objects",
    "PENDING": "objects",
    "Pool": "pool",
    "PoolExecutor": "pool.sync",
    "Process": "objects",
    "ProcessGraph": "objects",
    "Project": "objects",
    "ProtocolError": "errors",
    "REJECTED": "objects",
    "RPCError": "errors",
    "RUNNING": "objects",
    "RemoteError": "pool",
    "RequestTimeout": "errors",
    "SUCCESS": "objects",
    "ServerError": "errors",
    "Software": "objects",
    "Statistics": "objects",
    "TransportError": "errors",
    "UNREGISTERED": "objects",
    "User": "objects",
    "WAITING": "objects",
    "WorkflowSpec": "objects",
    "__version__": "_version",
    "gen_hash": "crypto",
    "gen_id": "crypto",
    "gen_prvkey": "crypto",
    "gen_signature": "crypto",
    "recid": "crypto",
    "requires": "pool",
}
__all__ = sorted(_WHERE)

if TYPE_CHECKING:  # for type checkers and editors: the same names, eagerly
    from ._version import __version__  # noqa: F401
    from .client import ColoniesClient  # noqa: F401
    from .pool import Pool  # noqa: F401


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
