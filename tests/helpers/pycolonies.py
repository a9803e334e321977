"""pycolonies 1.0.25, the Python SDK colony users already have, in a venv of its own as a user
installs it: it sends a function the way pycolonies does (`func_spec(fn, ...)`: the source base64
in env["code"]) and reads the result back with its own client."""

from __future__ import annotations

import subprocess
import venv
from urllib.parse import urlsplit

from tools.layout import TOOLS

VERSION = "1.0.25"
VENV = TOOLS / f"pycolonies-{VERSION}"

SCRIPT = '''
import sys, time
from pycolonies import Colonies, func_spec

def multiply_add(a, b, ctx=None):
    assert "executor_prvkey" not in ctx, "a slot is never handed a key"
    return a * b + 1

host, port, colonyname, executortype, prvkey = sys.argv[1:]
colonies = Colonies(host, int(port))
spec = func_spec(multiply_add, [6, 7], colonyname, executortype, maxexectime=30, maxretries=1)
process = colonies.submit_func_spec(spec, prvkey)
deadline = time.monotonic() + 60
while process.state not in (2, 3) and time.monotonic() < deadline:  # pycolonies' own wait misses early ends
    time.sleep(0.05)
    process = colonies.get_process(process.processid, prvkey)
print(process.state, process.output, process.errors)
'''


def python() -> str:
    """The venv's python, with pycolonies installed from PyPI the first time."""
    exe = VENV / "bin" / "python"
    if not (VENV / f".pycolonies-{VERSION}").exists():
        venv.create(VENV, with_pip=True, clear=True)
        subprocess.run([str(exe), "-m", "pip", "install", "-q", f"pycolonies=={VERSION}"], check=True, timeout=600)
        (VENV / f".pycolonies-{VERSION}").touch()
    return str(exe)


def submit_and_read(server_url: str, colonyname: str, executortype: str, prvkey: str) -> str:
    """`multiply_add(6, 7)` sent by pycolonies; what pycolonies reads back: "STATE OUTPUT ERRORS"."""
    where = urlsplit(server_url)
    script = VENV / "submit_multiply_add.py"  # a file: func_spec reads the function's source with inspect
    exe = python()
    script.write_text(SCRIPT)
    argv = [exe, str(script), where.hostname or "", str(where.port), colonyname, executortype, prvkey]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if proc.returncode:
        raise AssertionError(f"pycolonies failed: {proc.stdout}{proc.stderr}")
    return proc.stdout.strip()

