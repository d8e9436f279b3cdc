"""The threat-intel page: indicators held, feed health, what they matched."""

from __future__ import annotations

import html
from pathlib import Path

import httpx

from heron.alerts import AlertStore
from heron.intel.feeds import FeedRun, StoreFeedBook
from heron.intel.indicator import make_indicator
from heron.intel.retro import retro_match
from heron.intel.store import IntelStore
from heron.model.timeutil import NS_PER_S, now_ns
from heron.runtime import open_node
from ui.appserver import make_app, serving
from ui.signin import login
from ui.webdata import build


def test_the_intel_page_shows_indicators_feeds_and_matches(tmp_path: Path) -> None:
    data = build(tmp_path / "data", None)
    with open_node(data.data_dir, detect=False) as node:
        intel = IntelStore(node.store)
        now = now_ns()
        stored = [
            make_indicator(None, "198.51.100.7", "feodo"),  # the sshd line's source address
            make_indicator(None, "evil.example", "feodo"),
            make_indicator(None, "203.0.113.9", "old-list", expires=now - 10 * NS_PER_S),
        ]
        summary = intel.load(stored)
        AlertStore(node.store).add(retro_match(node.store, summary.new, 3650))
        book = StoreFeedBook(node.store)
        book.record("feodo", now, FeedRun("feodo", True, added=2), None)
        book.record("broken", now, FeedRun("broken", False, error="cannot read <x>"), None)
        with serving(make_app(node)) as url, httpx.Client(base_url=url, timeout=30) as client:
            assert client.get("/ui/intel", follow_redirects=False).status_code == 303
            login(client, "rita")  # the read role sees it
            answer = client.get("/ui/intel")
    assert answer.status_code == 200, answer.text
    text = answer.text
    assert 'href="/ui/intel" class="here"' in text
    assert "2 active indicators" in text
    rows = [html.unescape(r) for r in _cells(text)]
    assert ["feodo", "domain-name", "1", "0"] in rows and ["feodo", "ipv4-addr", "1", "0"] in rows
    assert ["old-list", "ipv4-addr", "0", "1"] in rows
    assert "failed: cannot read &lt;x&gt;" in text  # escaped, as every page is
    assert 'href="/ui/alerts?status=any&amp;rule=intel%3Afeodo">1</a>' in text


def _cells(text: str) -> list[list[str]]:
    import re

    return [
        re.findall(r"<td>([^<]*)</td>", row)
        for row in re.findall(r"<tr>(.*?)</tr>", text, flags=re.S)
    ]
