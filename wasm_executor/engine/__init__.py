"""The execution engine: the executor loop (`executor`), the slots it runs functions in (`slots`,
`process_slots`, `browser_slots`) and the slot runtime they share (`job`)."""

from .executor import ColonyExecutor, ExecutorConfig, join_command
from .job import Job, JobResult
from .slots import FunctionInfo, InlineSlots, SlotLost, SlotPool

__all__ = [
    "ColonyExecutor", "ExecutorConfig", "FunctionInfo", "InlineSlots", "Job", "JobResult", "SlotLost", "SlotPool", "join_command",
]
