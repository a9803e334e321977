"""Server URLs are checked before anything is sent: each bad one is refused with its reason."""

from __future__ import annotations

import re

import pytest

from wasm_executor.urls import BadServerURL, check_server_url, check_server_urls


@pytest.mark.parametrize(("text", "reason"), [
    ("", "Server URL is empty"),
    ("javascript:alert(1)", "must start with http:// or https://"),
    ("ftp://127.0.0.1:50080", "must start with http:// or https://, not ftp://"),
    ("127.0.0.1:50080", "did you mean http://127.0.0.1:50080?"),
    ("localhost:50080", "did you mean http://localhost:50080?"),
    ("http://user:secret@127.0.0.1:50080", "must not contain a user name or password"),
    ("http://:50080", "has no host name"),
    ("http://127.0.0.1:99999", "port that is not a number"),
    ("http://127.0.0.1:50080/?next=x", "must not have a ?query or #fragment"),
    ("http://127.0.0.1:50080/#top", "must not have a ?query or #fragment"),
    ("http://127.0.0.1:50080/a b", "spaces or control characters"),
    ("http://127.0.0.1\n:50080", "spaces or control characters"),
])
def test_bad_urls_are_refused_with_their_reason(text: str, reason: str) -> None:
    with pytest.raises(BadServerURL, match=reason.replace("?", r"\?").replace("(", r"\(")):
        check_server_url(text)


def test_good_urls_pass_without_trailing_slash() -> None:
    assert check_server_url(" http://127.0.0.1:50080/ ") == "http://127.0.0.1:50080"
    assert check_server_url("https://colony.example.org/colonies") == "https://colony.example.org/colonies"
    assert check_server_url("HTTP://[::1]:50080") == "HTTP://[::1]:50080"


def test_an_https_page_cannot_call_an_http_server_and_says_so() -> None:
    with pytest.raises(BadServerURL, match="mixed content"):
        check_server_url("http://127.0.0.1:50080", page_scheme="https")
    assert check_server_url("https://127.0.0.1:50080", page_scheme="https") == "https://127.0.0.1:50080"
    assert check_server_url("http://127.0.0.1:50080", page_scheme="http") == "http://127.0.0.1:50080"


def test_several_replicas_urls_are_each_checked_and_given_back_normalised() -> None:
    text = " http://127.0.0.1:50090/, http://127.0.0.1:50091  http://127.0.0.1:50092 "
    assert check_server_urls(text) == "http://127.0.0.1:50090, http://127.0.0.1:50091, http://127.0.0.1:50092"
    assert check_server_urls("http://127.0.0.1:50080/") == "http://127.0.0.1:50080"  # one is one
    with pytest.raises(BadServerURL, match=re.escape("Server URL 2 must start with http:// or https://; did you mean http://127.0.0.1:50091?")):
        check_server_urls("http://127.0.0.1:50090, 127.0.0.1:50091")
    with pytest.raises(BadServerURL, match="Server URL is empty"):
        check_server_urls(" , ")
