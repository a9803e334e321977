"""wasm_executor: a pure-Python ColonyOS SDK and executor for CPython and the browser (Pyodide).

The same calls, with the same names, as the ColonyOS Rust SDK; see `ColoniesClient`.
"""

from ._version import __version__
from .client import ColoniesClient
from .crypto import CryptoError, gen_hash, gen_id, gen_prvkey, gen_signature, recid
from .errors import ConnectionFailed, ProtocolError, RequestTimeout, RPCError, ServerError
from .objects import (
    APPROVED,
    CANCELLED,
    ENV,
    ERR,
    FAILED,
    GPU,
    IN,
    OUT,
    PENDING,
    REJECTED,
    RUNNING,
    SUCCESS,
    UNREGISTERED,
    WAITING,
    Allocations,
    Attribute,
    Blueprint,
    BlueprintDefinition,
    BlueprintDefinitionNames,
    BlueprintDefinitionSpec,
    BlueprintHandler,
    BlueprintMetadata,
    Capabilities,
    ChannelEntry,
    Colony,
    Conditions,
    Executor,
    Function,
    FunctionArg,
    FunctionSpec,
    Hardware,
    Log,
    Process,
    ProcessGraph,
    Project,
    Software,
    Statistics,
    User,
    WorkflowSpec,
)

__all__ = [
    "APPROVED", "CANCELLED", "ENV", "ERR", "FAILED", "GPU", "IN", "OUT", "PENDING", "REJECTED", "RUNNING",
    "SUCCESS", "UNREGISTERED", "WAITING", "Allocations", "Attribute", "Blueprint", "BlueprintDefinition",
    "BlueprintDefinitionNames", "BlueprintDefinitionSpec", "BlueprintHandler", "BlueprintMetadata", "Capabilities",
    "ChannelEntry", "ColoniesClient", "Colony", "Conditions", "ConnectionFailed", "CryptoError", "Executor",
    "Function", "FunctionArg", "FunctionSpec", "Hardware", "Log", "Process", "ProcessGraph", "Project",
    "ProtocolError", "RPCError", "RequestTimeout", "ServerError", "Software", "Statistics", "User", "WorkflowSpec",
    "__version__", "gen_hash", "gen_id", "gen_prvkey", "gen_signature", "recid",
]
