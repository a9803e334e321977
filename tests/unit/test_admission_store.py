"""The admission rules (wasm_executor/admission/store.py), decided without a network."""

from __future__ import annotations

import argparse
import sqlite3

import pytest

from wasm_executor.admission.__main__ import duration
from wasm_executor.admission.store import Store
from wasm_executor.joining import JoinLink, parse_join_link, signed_text

NOW = 1_800_000_000.0
A, B = "a" * 64, "b" * 64


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "admission.db")


def decide(store: Store, text: str, executorid: str = A, name: str = "lab-1", executortype: str = "wasm",
           location: str = "", colony: str = "dev", now: float = NOW):
    return store.decide(text, colony, executorid, name, executortype, location, now=now)


def test_a_fresh_invite_admits_and_each_admission_spends_one_use(store: Store) -> None:
    invite, text = store.create_invite("dev", "wasm", uses=2, expires_in=3600, now=NOW)
    assert decide(store, text).admitted
    assert store.spend(invite.id, now=NOW) and store.spend(invite.id, now=NOW)
    assert not store.spend(invite.id, now=NOW)  # no third use
    assert store.invite(invite.id).used == 2


def test_refusals_name_their_reason(store: Store) -> None:
    invite, text = store.create_invite("dev", "wasm", uses=1, expires_in=3600, locationname="lab", now=NOW)
    assert decide(store, text, location="lab").admitted
    assert decide(store, invite.id + ".forged-secret", location="lab").reason == "unknown invite"
    assert decide(store, "nonsense", location="lab").reason == "unknown invite"
    assert decide(store, text, executortype="gpu", location="lab").reason == "wrong type"
    assert decide(store, text, location="home").reason == "wrong location"
    assert decide(store, text, colony="other", location="lab").reason == "wrong colony"
    assert decide(store, text, location="lab", now=NOW + 3600).reason == "expired"
    store.spend(invite.id, now=NOW)
    assert decide(store, text, location="lab").reason == "used up"
    store.revoke(invite.id, now=NOW)
    assert decide(store, text, location="lab").reason == "revoked"


def test_the_same_executor_rejoins_without_spending_a_use_even_once_used_up_or_expired(store: Store) -> None:
    invite, text = store.create_invite("dev", "wasm", uses=1, expires_in=60, now=NOW)
    store.spend(invite.id, now=NOW)
    store.admit(A, "lab-1", "dev", invite.id, now=NOW)
    again = decide(store, text, now=NOW + 3600)
    assert again.admitted and again.readmit
    assert decide(store, text, executorid=B, name="lab-2", now=NOW + 10).reason == "used up"
    store.revoke(invite.id)
    assert decide(store, text, now=NOW + 10).reason == "revoked"  # revoking ends re-joins too


def test_a_name_admitted_for_one_executor_is_refused_to_another(store: Store) -> None:
    invite, text = store.create_invite("dev", "wasm", uses=5, expires_in=3600, now=NOW)
    store.admit(A, "lab-1", "dev", invite.id, now=NOW)
    assert decide(store, text, executorid=B, name="lab-1").reason == "name taken"
    assert decide(store, text, executorid=B, name="lab-2").admitted


def test_invites_and_counts_survive_a_restart_and_the_secret_is_not_stored(tmp_path) -> None:
    path = tmp_path / "admission.db"
    invite, text = Store(path).create_invite("dev", "wasm", uses=3, expires_in=3600, now=NOW)
    Store(path).spend(invite.id, now=NOW)
    again = Store(path)
    assert again.invite(invite.id).used == 1 and decide(again, text).admitted
    secret = text.split(".", 1)[1]
    dump = "\n".join(sqlite3.connect(path).iterdump())
    assert invite.id in dump and secret not in dump


def test_journal_keeps_every_outcome_in_order(store: Store) -> None:
    store.record("admitted", "", A, "lab-1", "i1", "127.0.0.1", now=NOW)
    store.record("refused", "expired", B, "lab-2", "i1", "127.0.0.1", now=NOW + 1)
    rows = [(r["outcome"], r["reason"], r["executorid"]) for r in store.journal()]
    assert rows == [("admitted", "", A), ("refused", "expired", B)]


def test_bad_invites_cannot_be_made(store: Store) -> None:
    with pytest.raises(ValueError, match="at least 1 use"):
        store.create_invite("dev", "wasm", uses=0, expires_in=60)
    with pytest.raises(ValueError, match="future"):
        store.create_invite("dev", "wasm", uses=1, expires_in=0)


def test_durations() -> None:
    assert [duration(t) for t in ("90s", "30m", "24h", "7d", "2")] == [90, 1800, 86400, 604800, 7200]
    for bad in ("", "0h", "-1h", "1w", "soon"):
        with pytest.raises(argparse.ArgumentTypeError):
            duration(bad)


def test_a_join_link_round_trips_and_a_page_url_is_not_one() -> None:
    link = JoinLink("http://127.0.0.1:8000/", "http://127.0.0.1:50080", "dev", "http://127.0.0.1:50081",
                    "ab12.secret&=?", "wasm", "lab 3")
    assert parse_join_link(link.url()) == link
    coded = JoinLink("http://p/", "http://s", "dev", "http://a", "id.s", code=True)
    assert "code=1" in coded.url() and parse_join_link(coded.url()).code
    with pytest.raises(ValueError, match="admission, invite"):
        parse_join_link("http://127.0.0.1:8000/?server=http://x&colony=dev")


def test_the_signed_text_binds_every_field_and_ignores_others() -> None:
    join = {"challenge": "c", "invite": "i", "colonyname": "dev", "executorid": A, "executorname": "n",
            "executortype": "wasm", "locationname": ""}
    assert signed_text(join) == signed_text({**join, "extra": "ignored"})
    assert signed_text(join) != signed_text({**join, "executortype": "gpu"})


def test_allowed_origins_are_exact_or_any_port_of_a_named_host() -> None:
    from wasm_executor.admission.service import AdmissionService

    service = AdmissionService(None, None, "dev", "", origins=("https://lab.example.org", "http://127.0.0.1:*"))  # type: ignore[arg-type]
    assert service.allows("https://lab.example.org") and service.allows("http://127.0.0.1:8123")
    for other in ("https://lab.example.org:8443", "http://127.0.0.1", "http://127.0.0.1:*", "http://127.0.0.10:80",
                  "https://evil.example", "null"):
        assert not service.allows(other), other


def test_a_refusal_stops_a_join_and_a_stale_challenge_or_a_busy_service_is_retried() -> None:
    from wasm_executor.errors import TransportError
    from wasm_executor.joining import AdmissionRefused, _reply

    assert _reply(200, '{"executorid": "x"}') == {"executorid": "x"}
    with pytest.raises(AdmissionRefused) as refused:
        _reply(403, '{"reason": "expired", "error": "invite ab12 expired at …"}')
    assert (refused.value.reason, str(refused.value)) == ("expired", "invite ab12 expired at …")
    for status in (409, 429, 502, 503):  # the executor's Retry retries transport errors
        with pytest.raises(TransportError):
            _reply(status, '{"reason": "stale challenge", "error": "ask again"}')
