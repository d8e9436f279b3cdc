"""Headless Chromium (Debian's) driving a real Heron server on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from heron.runtime import open_node

from .appserver import make_app, serving
from .webdata import WebData, build

CHROMIUM = Path("/usr/bin/chromium")
CORPORA = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpora"


@pytest.fixture(scope="module")
def web_data(tmp_path_factory: pytest.TempPathFactory) -> WebData:
    root = tmp_path_factory.mktemp("ui")
    return build(root / "data", CORPORA if CORPORA.is_dir() else None)


@pytest.fixture(scope="module")
def base_url(web_data: WebData) -> Iterator[str]:
    with open_node(web_data.data_dir, detect=False) as node, serving(make_app(node)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: the UI tests drive Debian's chromium package")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            launched.close()
