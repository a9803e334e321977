"""The admin's fleet page: who may see it, and what it shows (escaped, no script)."""

from __future__ import annotations

import base64
import hashlib
import re

from wasm_executor.admission.fleet import Member
from wasm_executor.admission.status import CSP, CSS, authorized, render

TOKEN = "s3cret-token"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_the_token_as_bearer_or_as_basic_password_with_any_user_name() -> None:
    assert authorized(f"Bearer {TOKEN}", TOKEN)
    assert authorized(basic("admin", TOKEN), TOKEN) and authorized(basic("", TOKEN), TOKEN)
    assert not authorized("Bearer wrong", TOKEN)
    assert not authorized(basic(TOKEN, "wrong"), TOKEN)  # the user name is not the token
    assert not authorized("", TOKEN) and not authorized("Basic ***", TOKEN) and not authorized(TOKEN, TOKEN)


def member(name: str, state: str, done: int = 0) -> Member:
    return Member(name, "id-" + name, "inv1", state, 2, 1, done, 0, 0.5, 1000.0)


def test_the_page_lists_each_executor_with_its_state_and_escapes_what_joiners_typed() -> None:
    page = render([member("lab-1", "serving", 7), member("<script>x</script>", "paused"), member("b", "gone (closed)")],
                  "dev", "wasm", now=1010.0)
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert "3 executor(s): 1 gone, 1 paused, 1 serving" in page
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td class=\"[^\"]+\">(.*?)</td>", page)
    assert [(r[0], r[2]) for r in rows] == [("lab-1", "serving"), ("&lt;script&gt;x&lt;/script&gt;", "paused"),
                                           ("b", "gone (closed)")]
    assert "10 s ago" in page


def test_its_one_style_is_allowed_by_hash_and_nothing_else() -> None:
    digest = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in CSP and "default-src 'none'" in CSP and "script-src" not in CSP
    assert f"<style>{CSS}</style>" in render([], "dev", "wasm")
