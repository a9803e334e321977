"""What a remote failure looks like to the driver."""

from __future__ import annotations


class RemoteError(Exception):
    """The shipped function raised (or could not run) on the executor."""

    def __init__(self, type_name: str, message: str, traceback: str = "", processid: str = "") -> None:
        super().__init__(f"{type_name}: {message}" if type_name else message)
        self.type_name, self.message, self.traceback, self.processid = type_name, message, traceback, processid

    def __str__(self) -> str:
        head = super().__str__()
        return f"{head}\n\nRemote traceback:\n{self.traceback}" if self.traceback else head
