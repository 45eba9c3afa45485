"""A browser-like client for the pages without a browser: signed in through the login form, and a
form's hidden fields (CSRF token, one-time token, where it returns) read from the page it is on."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.conftest import Served


@contextmanager
def signed_in(served: Served, token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=30, headers={"Accept": "text/html"}) as client:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert csrf is not None
        r = client.post("/login", data={"csrf_token": csrf.group(1), "token": token})
        assert r.status_code == 303, r.text
        yield client


def form_on(page: str, action: str, n: int = 0) -> dict[str, str]:
    """The hidden fields of the `n`th form posting to `action` on `page`."""
    forms = re.findall(rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S)
    assert len(forms) > n, f"no form posting to {action}"
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', forms[n])
    return {name: html.unescape(value) for name, value in hidden}


def post_form(client: httpx.Client, page_path: str, action: str, fields: dict[str, Any], n: int = 0) -> httpx.Response:
    """Fill in the form on `page_path` that posts to `action` and send it (not following the redirect)."""
    data: dict[str, Any] = form_on(client.get(page_path).text, action, n) | fields
    return client.post(action, data=data)
