"""The first admin through ``/ui/setup`` with the one-time setup token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from heron.auth import AuthStore
from heron.runtime import open_node
from ui.appserver import make_app, serving


@pytest.fixture
def empty_node(tmp_path: Path) -> Iterator[tuple[str, str]]:
    data = tmp_path / "data"
    data.mkdir()
    secret = AuthStore(data).create_setup_token()
    assert secret is not None
    with open_node(data, detect=False) as node, serving(make_app(node)) as url:
        yield url, secret


def test_setup_creates_the_first_admin_once(empty_node: tuple[str, str]) -> None:
    url, secret = empty_node
    with httpx.Client(base_url=url, timeout=30) as client:
        assert "/ui/setup" in client.get("/ui/login").text
        form = client.get("/ui/setup").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        data = {"csrf": csrf, "username": "root", "password": "a long enough passphrase"}
        wrong = client.post("/ui/setup", data={**data, "token": "guess"})
        assert wrong.status_code == 400 and "invalid or expired setup token" in wrong.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', wrong.text).group(1)  # type: ignore[union-attr]
        done = client.post(
            "/ui/setup", data={**data, "csrf": csrf, "token": secret}, follow_redirects=False
        )
        assert done.status_code == 303
        # Spent: the page now sends people to sign in.
        assert client.get("/ui/setup", follow_redirects=False).headers["location"] == "/ui/login"
        form = client.get("/ui/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        signed = client.post(
            "/ui/login",
            data={"csrf": csrf, "username": "root", "password": "a long enough passphrase"},
            follow_redirects=False,
        )
        assert signed.status_code == 303
        assert client.get("/ui/rules").status_code == 200
