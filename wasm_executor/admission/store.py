"""The admission service's memory: invites, admissions and a journal, in one SQLite file.

SQLite from the standard library: one file that survives restarts, safe across the service and
the `invite`/`list`/`revoke` commands run beside it (each call is one short transaction).
An invite is `ID.SECRET`; only a hash of the secret is stored, so the file alone admits nobody.
Every decision about an invite is made here (`decide`), so it is tested without a network.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS invites (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    colonyname TEXT NOT NULL,
    executortype TEXT NOT NULL,
    locationname TEXT NOT NULL DEFAULT '',
    uses INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    expires REAL NOT NULL,
    revoked REAL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS admissions (
    executorid TEXT PRIMARY KEY,
    executorname TEXT NOT NULL,
    colonyname TEXT NOT NULL,
    invite_id TEXT NOT NULL,
    first REAL NOT NULL,
    last REAL NOT NULL,
    joins INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS journal (
    time REAL NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    executorid TEXT NOT NULL DEFAULT '',
    executorname TEXT NOT NULL DEFAULT '',
    invite_id TEXT NOT NULL DEFAULT '',
    remote TEXT NOT NULL DEFAULT ''
);
"""


def _hash(secret: str) -> str:
    return hashlib.sha3_256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Invite:
    id: str
    colonyname: str
    executortype: str
    locationname: str
    uses: int
    used: int
    expires: float
    revoked: float | None
    created: float

    def status(self, now: float) -> str:
        if self.revoked is not None:
            return "revoked"
        if now >= self.expires:
            return "expired"
        if self.used >= self.uses:
            return "used up"
        return "open"


@dataclass(frozen=True)
class Decision:
    """`reason` empty: admit. `readmit`: this executor was admitted with this invite before (no use spent)."""

    reason: str
    message: str
    invite_id: str = ""
    readmit: bool = False

    @property
    def admitted(self) -> bool:
        return not self.reason


def refuse(reason: str, message: str, invite_id: str = "") -> Decision:
    return Decision(reason, message, invite_id)


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        with self._db() as db:
            db.executescript(SCHEMA)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # Autocommit: every statement is its own transaction, and each one that counts is a single UPDATE.
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            yield db
        finally:
            db.close()

    # ------------------------------------------------------------------ invites

    def create_invite(
        self, colonyname: str, executortype: str, uses: int, expires_in: float, locationname: str = "",
        now: float | None = None,
    ) -> tuple[Invite, str]:
        """A new invite and its text (`ID.SECRET`), which is shown once and never stored."""
        if uses < 1:
            raise ValueError("an invite needs at least 1 use")
        if expires_in <= 0:
            raise ValueError("an invite must expire in the future")
        now = time.time() if now is None else now
        invite_id, secret = secrets.token_hex(4), secrets.token_urlsafe(24)
        with self._db() as db:
            db.execute(
                "INSERT INTO invites (id, secret_hash, colonyname, executortype, locationname, uses, expires, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (invite_id, _hash(secret), colonyname, executortype, locationname, uses, now + expires_in, now),
            )
        return self.invite(invite_id), f"{invite_id}.{secret}"  # type: ignore[return-value]

    def invite(self, invite_id: str) -> Invite | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM invites WHERE id = ?", (invite_id,)).fetchone()
        return _invite(row) if row else None

    def invites(self) -> list[Invite]:
        with self._db() as db:
            return [_invite(r) for r in db.execute("SELECT * FROM invites ORDER BY created")]

    def revoke(self, invite_id: str, now: float | None = None) -> bool:
        with self._db() as db:
            cur = db.execute("UPDATE invites SET revoked = ? WHERE id = ? AND revoked IS NULL",
                             (time.time() if now is None else now, invite_id))
        return cur.rowcount == 1

    def _verified(self, text: str) -> Invite | None:
        invite_id, _, secret = text.partition(".")
        with self._db() as db:
            row = db.execute("SELECT * FROM invites WHERE id = ?", (invite_id,)).fetchone()
        if row is None or not hmac.compare_digest(row["secret_hash"], _hash(secret)):
            return None
        return _invite(row)

    # ------------------------------------------------------------------ decisions

    def decide(
        self, text: str, colonyname: str, executorid: str, executorname: str, executortype: str,
        locationname: str, now: float | None = None,
    ) -> Decision:
        """May this executor join with this invite? Spends nothing (see `spend`)."""
        now = time.time() if now is None else now
        invite = self._verified(text)
        if invite is None:
            return refuse("unknown invite", "this invite is not one the admission service issued (mistyped, or forged)")
        iid = invite.id
        if invite.revoked is not None:
            return refuse("revoked", f"invite {iid} was revoked by the colony's admin", iid)
        if colonyname != invite.colonyname:
            return refuse("wrong colony", f"invite {iid} is for colony '{invite.colonyname}', not '{colonyname}'", iid)
        if executortype != invite.executortype:
            return refuse("wrong type", f"invite {iid} admits executors of type '{invite.executortype}', not '{executortype}'", iid)
        if invite.locationname and locationname != invite.locationname:
            return refuse("wrong location", f"invite {iid} admits executors at location '{invite.locationname}', "
                          f"not '{locationname}'", iid)
        holder = self.name_holder(colonyname, executorname)
        if holder is not None and holder != executorid:
            return refuse("name taken", f"another executor was admitted as '{executorname}': choose another name", iid)
        earlier = self.admission(executorid)
        if earlier is not None and earlier["invite_id"] == iid:
            # Admitted before (a reload after removal, a stale timeout): the same admission, no use spent,
            # even once the invite has expired or is used up. Revoking it ends that too (checked above).
            return Decision("", "readmitted", iid, readmit=True)
        if now >= invite.expires:
            return refuse("expired", f"invite {iid} expired at {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(invite.expires))}", iid)
        if invite.used >= invite.uses:
            return refuse("used up", f"invite {iid} has been used {invite.used} of {invite.uses} times", iid)
        return Decision("", "admitted", iid)

    def spend(self, invite_id: str, now: float | None = None) -> bool:
        """Take one use, atomically; False if none is left (another join took the last)."""
        now = time.time() if now is None else now
        with self._db() as db:
            cur = db.execute(
                "UPDATE invites SET used = used + 1 WHERE id = ? AND used < uses AND revoked IS NULL AND expires > ?",
                (invite_id, now))
        return cur.rowcount == 1

    def give_back(self, invite_id: str) -> None:
        """Return a use taken by a join the colony then refused."""
        with self._db() as db:
            db.execute("UPDATE invites SET used = used - 1 WHERE id = ? AND used > 0", (invite_id,))

    # ------------------------------------------------------------------ admissions and journal

    def admission(self, executorid: str) -> sqlite3.Row | None:
        with self._db() as db:
            return db.execute("SELECT * FROM admissions WHERE executorid = ?", (executorid,)).fetchone()

    def name_holder(self, colonyname: str, executorname: str) -> str | None:
        with self._db() as db:
            row = db.execute("SELECT executorid FROM admissions WHERE colonyname = ? AND executorname = ?",
                             (colonyname, executorname)).fetchone()
        return row["executorid"] if row else None

    def admit(self, executorid: str, executorname: str, colonyname: str, invite_id: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._db() as db:
            db.execute(
                "INSERT INTO admissions (executorid, executorname, colonyname, invite_id, first, last) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(executorid) DO UPDATE SET executorname = excluded.executorname, last = excluded.last, "
                "joins = joins + 1",
                (executorid, executorname, colonyname, invite_id, now, now))

    def record(self, outcome: str, reason: str = "", executorid: str = "", executorname: str = "",
               invite_id: str = "", remote: str = "", now: float | None = None) -> None:
        with self._db() as db:
            db.execute("INSERT INTO journal VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (time.time() if now is None else now, outcome, reason, executorid, executorname, invite_id, remote))

    def last_leave(self, executorid: str) -> str:
        """Why the executor last left through this service ("closed", "frozen", or "left" when its
        page did not say); "" when it never did."""
        with self._db() as db:
            row = db.execute("SELECT reason FROM journal WHERE outcome = 'left' AND executorid = ? ORDER BY rowid DESC LIMIT 1",
                             (executorid,)).fetchone()
        return "" if row is None else (row["reason"] or "left")

    def journal(self, limit: int = 50) -> list[sqlite3.Row]:
        with self._db() as db:
            return list(db.execute("SELECT * FROM journal ORDER BY rowid DESC LIMIT ?", (limit,)))[::-1]


def _invite(row: sqlite3.Row) -> Invite:
    return Invite(row["id"], row["colonyname"], row["executortype"], row["locationname"], row["uses"],
                  row["used"], row["expires"], row["revoked"], row["created"])
