"""The input matrix: processes with awkward input, and how each must end, for every kind of executor."""

from __future__ import annotations

from wasm_executor import FAILED, SUCCESS

# (case, funcname, args, kwargs, expected state, expected output or error)
CASES = [
    ("1 MB argument", "echo", ["x" * 1_000_000], {}, SUCCESS, ["x" * 1_000_000]),
    ("1,000 arguments", "echo", [str(i) for i in range(1000)], {}, SUCCESS, [str(i) for i in range(1000)]),
    ("no arguments", "echo", [], {}, SUCCESS, []),
    ("empty argument", "echo", [""], {}, SUCCESS, [""]),
    ("unicode", "echo", ["héllo", "日本語", "🙂", "\u00a0"], {}, SUCCESS, ["héllo", "日本語", "🙂", "\u00a0"]),
    ("right-to-left", "echo", ["\u202eevil.exe", "שלום", "مرحبا"], {}, SUCCESS, ["\u202eevil.exe", "שלום", "مرحبا"]),
    ("NUL and controls", "echo", ["a\x00b", "\x1b[2J\x07", "\r\n"], {}, SUCCESS, ["a\x00b", "\x1b[2J\x07", "\r\n"]),
    ("HTML and script", "echo", ["<script>alert(1)</script>", '"quoted" & \'single\'', "<img src=x onerror=alert(1)>"], {},
     SUCCESS, ["<script>alert(1)</script>", '"quoted" & \'single\'', "<img src=x onerror=alert(1)>"]),
    ("kwargs to a function without them", "echo", ["a"], {"k": 1}, FAILED,
     "echo: wrong arguments (got an unexpected keyword argument 'k'); expected: *args"),
    ("kwargs to python", "python", ["def f(a, *, b): return a + b"], {"call": "f", "args": [1], "kwargs": {"b": 2}}, SUCCESS, [3]),
    ("NUL printed to the log", "python", ["print('before\\x00after'); 7"], {}, SUCCESS, [7]),
    ("a number where text is expected", "greet", [5], {}, SUCCESS, ["Hello, 5! Greetings from Python in the browser."]),
]
