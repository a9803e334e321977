"""The server URL a person types, checked before anything is sent to it.

One rule for the page and the terminal: http or https, a host, no user name or password in it
(they would travel in every request and sit in saved settings), no query or fragment. A page
served over https cannot call an http server: the browser blocks it as mixed content, and the
fetch error it gives says nothing useful, so we say it first.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from .servers import split_urls


def server_url_from_env(env: Mapping[str, str] = os.environ) -> str:
    """The server that COLONIES_SERVER_HOST, COLONIES_SERVER_PORT and COLONIES_TLS name (the CLI's variables)."""
    scheme = "https" if env.get("COLONIES_TLS", "false").lower() == "true" else "http"
    return f"{scheme}://{env.get('COLONIES_SERVER_HOST', '127.0.0.1')}:{env.get('COLONIES_SERVER_PORT', '50080')}"


class BadServerURL(ValueError):
    """The message says what is wrong and what to type instead."""


def check_server_url(text: str, page_scheme: str | None = None, what: str = "Server URL") -> str:
    """`text` as a usable server URL without a trailing slash, or `BadServerURL` with the reason.
    `page_scheme`: "https" or "http" when the caller is a page (mixed content is checked).
    `what`: the field's name in the messages (the admission service's URL obeys the same rule)."""
    try:
        return _checked(text, page_scheme)
    except BadServerURL as exc:
        raise BadServerURL(str(exc).replace("Server URL", what)) from None


def check_server_urls(text: str, page_scheme: str | None = None) -> str:
    """One server URL, or several (the replicas of one cluster, see `servers.Servers`) separated
    by commas or spaces, each checked by the one rule; the same text back, normalised."""
    urls = split_urls(text or "")
    if len(urls) <= 1:
        return check_server_url(urls[0] if urls else "", page_scheme)
    return ", ".join(check_server_url(url, page_scheme, f"Server URL {i}") for i, url in enumerate(urls, 1))


def _checked(text: str, page_scheme: str | None) -> str:
    url = (text or "").strip()
    if not url:
        raise BadServerURL("Server URL is empty: type the address of the ColonyOS server, e.g. http://127.0.0.1:50080")
    if any(ord(c) < 32 or c.isspace() for c in url):
        raise BadServerURL("Server URL contains spaces or control characters")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if "://" not in url:
        hint = f"; did you mean http://{url}?" if scheme in ("", "localhost") or url[0].isdigit() else ""
        raise BadServerURL(f"Server URL must start with http:// or https://{hint}")
    if scheme not in ("http", "https"):
        raise BadServerURL(f"Server URL must start with http:// or https://, not {scheme}://")
    if parts.username is not None or parts.password is not None:
        raise BadServerURL("Server URL must not contain a user name or password (user:secret@…): "
                           "ColonyOS signs each request with a key instead")
    if not parts.hostname:
        raise BadServerURL("Server URL has no host name")
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        raise BadServerURL("Server URL has a port that is not a number from 1 to 65535") from None
    if parts.query or parts.fragment:
        raise BadServerURL("Server URL must not have a ?query or #fragment")
    if page_scheme == "https" and scheme == "http":
        raise BadServerURL(
            "this page was opened over https, so the browser blocks calls to an http:// server (mixed content): "
            "give the server an https:// address, or open the page over http"
        )
    return url.rstrip("/")
