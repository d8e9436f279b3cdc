"""Signing a test client in to the web UI through its login form."""

from __future__ import annotations

import re

import httpx

from ui.webdata import PASSWORD


def login(client: httpx.Client, user: str) -> str:
    """Sign ``user`` in; return the session's CSRF token (read from a page)."""
    client.cookies.clear()
    form = client.get("/ui/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token is not None
    answer = client.post(
        "/ui/login",
        data={"csrf": token.group(1), "username": user, "password": PASSWORD, "next": "/ui/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    page = client.get("/ui/alerts").text
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)
