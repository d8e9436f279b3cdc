"""An app serving the UI over a data directory of ingested events and alerts."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from heron.runtime import open_node
from ui.appserver import make_app, serving
from ui.webdata import WebData, build


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
