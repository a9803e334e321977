"""The farewell: what an executor in a page has sent, as the page goes away (closed, reloaded)
or is frozen by the browser, so that the processes it holds run elsewhere at once instead of
staying RUNNING until their `maxexectime` (or for good, without one).

ColonyOS has no "give this process back" call, and a page that is going away cannot sign
anything (its worker stops with it), so the request is signed beforehand, once, when the
executor has joined, and handed to the page (`events.Farewell`), which sends it with
`navigator.sendBeacon` (it outlives the page). It removes the executor from the colony; the
server then puts every process the executor was RUNNING back in the queue (WAITING, same
process ID). The next start joins again.

- Joined with the colony key: a `removeexecutormsg` signed with it, straight to the server.
- Joined by invite: a leave to the admission service (which holds the colony key and removes
  it), signed by the executor and bound to this one admission (`joining.leave_request`).
- Approved by an admin: nothing can be signed beforehand: no farewell (the README says so).
"""

from __future__ import annotations

from ..envelope import build_request
from ..events import Farewell
from ..joining import leave_request
from .config import ExecutorConfig, Session


def farewell_for(config: ExecutorConfig, session: Session, admitted_at: str = "") -> Farewell:
    if config.colony_prvkey:
        payload = {"colonyname": session.colonyname, "executorname": session.executorname}
        return Farewell(session.client.api_url, build_request("removeexecutormsg", payload, config.colony_prvkey))
    if config.invite and config.admission_url and admitted_at:
        url, body = leave_request(config.admission_url, session.prvkey, session.colonyname, session.executorname, admitted_at)
        return Farewell(url, body, says_why=True)
    return Farewell()
