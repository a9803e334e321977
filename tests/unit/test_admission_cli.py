"""The admission CLI's invite: a join link may carry several servers (replicas); a bad one makes no invite."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasm_executor.admission.__main__ import main
from wasm_executor.admission.store import Store
from wasm_executor.joining import parse_join_link


def test_a_join_link_carries_the_replicas_urls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "admission.db"
    assert main(["--db", str(db), "invite", "--server", "http://127.0.0.1:50090/, http://127.0.0.1:50091"]) == 0
    link = next(line.split(": ", 1)[1] for line in capsys.readouterr().out.splitlines() if line.startswith("join link"))
    assert parse_join_link(link).server == "http://127.0.0.1:50090, http://127.0.0.1:50091"


def test_a_bad_server_url_is_refused_before_any_invite_is_made(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "admission.db"
    assert main(["--db", str(db), "invite", "--server", "http://127.0.0.1:50090, ftp://127.0.0.1:50091"]) == 2
    assert "Server URL 2" in capsys.readouterr().err
    assert Store(db).invites() == []
