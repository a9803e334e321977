"""The fleet as a web page for the colony's admin (`GET /fleet?type=T`), behind the admin's token.

The same rows as `python -m wasm_executor.admission fleet` (`fleet.members`), for an admin on a
phone or away from a shell. Off unless the service was given a token
($WASM_ADMISSION_ADMIN_TOKEN: not a command-line argument, which other users could read in the
process list). A browser asks for it by itself (HTTP Basic: any user name, the token as the
password); a program sends `Authorization: Bearer TOKEN` and may ask for `&format=json`. Outside
127.0.0.1, put TLS in front: Basic sends the token as it is.

The page is static HTML: no script, its one style element allowed by hash in its CSP, every
executor-chosen text escaped (a name is whatever a joiner typed), and it reloads itself every 5 s.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import secrets
import time
from collections import Counter

from .fleet import Member

REFRESH_S = 5
CSS = """
body { font: 15px/1.4 system-ui, sans-serif; margin: 1rem auto; max-width: 72rem; padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.3rem; margin: 0 0 .3rem; }
p { margin: .3rem 0 .8rem; color: #555; }
form { margin: .5rem 0 1rem; display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
input { font: inherit; padding: .3rem .5rem; }
.wide { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; min-width: 40rem; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #ddd; white-space: nowrap; }
th { font-weight: 600; background: #f4f5f7; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.state-serving { color: #1a7f37; font-weight: 600; }
.state-gone, .state-rejected { color: #888; }
"""
CSP = (f"default-src 'none'; style-src 'sha256-{base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()}'; "
       "form-action 'self'; frame-ancestors 'none'")
CHALLENGE = 'Basic realm="colony fleet", charset="UTF-8"'
HEADINGS = "".join(f"<th>{h}</th>" for h in ("Name", "Invite", "State", "Slots", "Free", "Done", "Failed", "Rate/s", "Last heard"))


def authorized(header: str, token: str) -> bool:
    """`Authorization: Bearer TOKEN`, or Basic with the token as the password (any user name)."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        given = value.strip()
    elif scheme.lower() == "basic":
        try:
            given = base64.b64decode(value.strip(), validate=True).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return False
    else:
        return False
    return secrets.compare_digest(given.encode(), token.encode())


def _heard(m: Member, now: float) -> str:
    return f"{now - m.last_heard:.0f} s ago" if m.last_heard else "never"


def render(rows: list[Member], colonyname: str, executortype: str, now: float | None = None) -> str:
    now = time.time() if now is None else now
    e = html.escape
    states = Counter(m.state.split(" (")[0] for m in rows)
    summary = ", ".join(f"{n} {state}" for state, n in sorted(states.items())) or "none"
    body = "".join(
        f"<tr><td>{e(m.name)}</td><td>{e(m.invite or '-')}</td>"
        f"<td class=\"state-{e(m.state.split(' ')[0])}\">{e(m.state)}</td>"
        f"<td class=\"n\">{m.slots}</td><td class=\"n\">{m.free}</td><td class=\"n\">{m.done}</td>"
        f"<td class=\"n\">{m.failed}</td><td class=\"n\">{m.rate:.2f}</td><td>{e(_heard(m, now))}</td></tr>"
        for m in rows)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{REFRESH_S}">
<title>Fleet: {e(executortype)} in {e(colonyname)}</title>
<style>{CSS}</style></head>
<body>
<h1>Executors of type {e(executortype)} in colony {e(colonyname)}</h1>
<p>{len(rows)} executor(s): {e(summary)}. As of {time.strftime("%H:%M:%S UTC", time.gmtime(now))};
this page reloads every {REFRESH_S} s.</p>
<form method="get" action="/fleet"><label for="type">Executor type</label>
<input id="type" name="type" value="{e(executortype)}"><button type="submit">Show</button></form>
<div class="wide"><table id="fleet">
<thead><tr>{HEADINGS}</tr></thead>
<tbody>{body}</tbody></table></div>
</body></html>
"""
