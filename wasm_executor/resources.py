"""What an executor declares it has free: the CPU and memory a process may ask for in its conditions.

The server assigns a process only when its `conditions.cpu` and `conditions.mem` fit what the
assign declares (`availablecpu`, `availablemem`; "" means unlimited). We declare:
- CPU: one core per free slot, in millicores ("3000m" with three slots free). A slot runs one
  process on one thread, so a process never gets more than one core's worth, but an executor
  with every slot free is the least loaded place for it.
- memory: what one slot can hold, since a process lives in one slot: the device's memory shared
  by the slots and the executor itself (slots + 1 shares), and in the browser at most the
  wasm32 heap Pyodide can grow to. The owner may set it (`ExecutorConfig.slot_memory_mib`).
The same figures go to the colony in the executor's capabilities.
"""

from __future__ import annotations

import os

from ._compat import in_pyodide, js_global

WASM32_HEAP_MIB = 4096  # a wasm32 memory addresses 4 GiB: no Pyodide slot can hold more
UNKNOWN_DEVICE_MIB = 4096  # a browser that does not say (navigator.deviceMemory is Chromium's)


def device_memory_mib() -> int:
    """The device's memory: navigator.deviceMemory in a browser (rounded, at most 8 GiB), the OS's in CPython."""
    if in_pyodide():
        gib = getattr(js_global().navigator, "deviceMemory", None)
        return int(float(gib) * 1024) if gib else UNKNOWN_DEVICE_MIB
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    except (ValueError, OSError, AttributeError):
        return UNKNOWN_DEVICE_MIB


def slot_memory_mib(slots: int, chosen: int = 0, device_mib: int | None = None, wasm: bool | None = None) -> int:
    """Memory one slot offers a process, in MiB: `chosen` if set, else the device's share."""
    if chosen > 0:
        return chosen
    share = (device_memory_mib() if device_mib is None else device_mib) // (max(1, slots) + 1)
    return min(share, WASM32_HEAP_MIB) if (in_pyodide() if wasm is None else wasm) else share


def cpu_text(free_slots: int) -> str:
    """`availablecpu` for this many free slots, as the server parses it (millicores with "m")."""
    return f"{max(0, free_slots) * 1000}m"


def mem_text(mib: int) -> str:
    """`availablemem` as the server parses it ("Mi": mebibytes)."""
    return f"{max(0, mib)}Mi"
