"""What an executor is told at start (`ExecutorConfig`), and the identity it acts as (`Session`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ..client import ColoniesClient
from ..crypto import gen_id


@dataclass
class ExecutorConfig:
    server_url: str
    colonyname: str
    executorname: str
    prvkey: str = field(repr=False)  # the executor's own key
    executortype: str = "wasm"
    colony_prvkey: str | None = field(default=None, repr=False)  # dev convenience: add and approve ourselves
    admission_url: str = ""  # with `invite`: join through the admission service (wasm_executor/joining.py)
    invite: str = field(default="", repr=False)
    poll_timeout: int = 10
    approval_poll_interval: float = 2.0
    first_backoff: float = 1.0
    max_backoff: float = 30.0
    locationname: str = ""
    kill_grace: float = 1.0  # seconds an interrupted function gets before its slot is replaced
    cancel_watch_after: float = 0.5  # a process running longer than this is watched for cancellation
    cancel_check_max: float = 5.0  # ... by reads at most this far apart: a cancel is seen within it
    allow_code: bool = False  # the owner's consent to run Python code the colony sends (`python`)
    slot_memory_mib: int = 0  # memory one slot offers a process (0: the device's share, see resources.py)


@dataclass(frozen=True)
class Session:
    """The client and the identity it acts for, given once to every room of the executor."""

    client: ColoniesClient
    colonyname: str
    executorname: str
    executortype: str
    prvkey: str = field(repr=False)

    @cached_property
    def executorid(self) -> str:
        return gen_id(self.prvkey)

    @classmethod
    def of(cls, config: ExecutorConfig, client: ColoniesClient) -> Session:
        return cls(client, config.colonyname, config.executorname, config.executortype, config.prvkey)
