"""Text from strangers made safe for a terminal: control characters shown, never obeyed.

Process arguments and outputs can hold ESC, NUL, BEL, backspaces and carriage returns that would
erase lines, fake results or retitle the terminal. Each is shown as an escape (`\\x1b`, `\\r`).
"""

from __future__ import annotations

import unicodedata


def safe_line(text: str) -> str:
    """`text` as one printable line: newlines, control and format characters become escapes."""
    out = []
    for ch in text:
        if ch.isprintable() and unicodedata.category(ch) != "Cf":  # Cf: bidi overrides, zero-width marks
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)
