"""An app serving the UI over a data directory of ingested events and alerts."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from heron.runtime import open_node
from ui.appserver import make_app, serving
from ui.webdata import PASSWORD, WebData, build


@pytest.fixture(scope="module")
def web_data(tmp_path_factory: pytest.TempPathFactory) -> WebData:
    from tests_corpora import corpora_or_none

    root = tmp_path_factory.mktemp("web")
    return build(root / "data", corpora_or_none())


@pytest.fixture(scope="module")
def base_url(web_data: WebData) -> Iterator[str]:
    with open_node(web_data.data_dir, detect=False) as node, serving(make_app(node)) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as c:
        yield c


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
