"""The enrichers and the intel detector in the real pipeline: events in, enriched events
and intel alerts stored; and scheduled feed refresh."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from heron.alerts.store import AlertStore
from heron.enrich.asset import AssetInventory
from heron.enrich.build import build_enrichers, build_intel_detector
from heron.enrich.identity import IdentityDirectory
from heron.errors import ConfigError
from heron.intel.feeds import FeedScheduler, StoreFeedBook, load_feeds
from heron.intel.indicator import make_indicator
from heron.intel.store import IntelStore
from heron.model.timeutil import NS_PER_S
from heron.pipeline import Pipeline
from heron.store.base import SearchQuery
from heron.store.duckdb import DuckDBStore


def _line(**doc: object) -> str:
    return orjson.dumps({"@timestamp": "2026-11-01T10:00:00Z", **doc}).decode()


def test_ingest_enriches_and_alerts(data_dir: Path, tmp_path: Path) -> None:
    with DuckDBStore(data_dir) as store:
        IntelStore(store).load(
            [
                make_indicator(None, "198.51.100.7", "feodo", confidence=90),
                make_indicator(None, "evil.example", "dns-feed", alert=False),
            ]
        )
        AssetInventory(store).import_records([{"name": "dc01.corp.example", "criticality": "high"}])
        IdentityDirectory(store).import_records([{"name": "alice", "aliases": "CORP\\alice"}])
    logs = tmp_path / "events.ndjson"
    logs.write_text(
        "\n".join(
            [
                _line(
                    source={"ip": "198.51.100.7"},
                    host={"name": "DC01"},
                    user={"name": "CORP\\alice"},
                ),
                _line(dns={"question": {"name": "www.evil.example"}}, host={"name": "ws1"}),
                _line(source={"ip": "10.0.0.1"}, message="nothing to see"),
            ]
        )
        + "\n"
    )
    with DuckDBStore(data_dir) as store:
        pipeline = Pipeline(
            store,
            enrichers=build_enrichers(data_dir),
            detector=build_intel_detector(),
            alerts=AlertStore(store),
        )
        summary = pipeline.ingest_files([logs])
        assert (summary.events, summary.failed, summary.detections) == (3, 0, 1)
        events = {
            e.get("source.ip") or e.get("dns.question.name"): e
            for e in store.search(SearchQuery(limit=100))
        }
        alerts = AlertStore(store).list()
    hit = events["198.51.100.7"]
    assert hit["threat.enrichments"][0]["indicator.provider"] == "feodo"
    assert hit["asset.criticality"] == "high"
    assert hit["user.name"] == "alice"
    assert hit["source.ip_scope"] == "reserved"  # 198.51.100.0/24: documentation
    assert (
        events["www.evil.example"]["threat.enrichments"][0]["matched.field"] == "dns.question.name"
    )
    assert "threat.enrichments" not in events["10.0.0.1"]
    assert events["10.0.0.1"]["source.ip_scope"] == "private"
    (alert,) = alerts
    assert (alert.rule_id, alert.rule_level) == ("intel:feodo", "critical")  # high asset: +1


def test_feeds_refresh_when_due_and_record_failures(data_dir: Path, tmp_path: Path) -> None:
    good = tmp_path / "list.txt"
    good.write_text("198.51.100.7\n")
    config = tmp_path / "feeds.yml"
    config.write_text(
        "feeds:\n"
        f"  - {{name: local, type: file, path: {good}, interval: 1h}}\n"
        f"  - {{name: gone, type: file, path: {tmp_path / 'missing.txt'}, interval: 1h}}\n"
    )
    feeds = load_feeds(config)
    clock = [1_780_000_000 * NS_PER_S]
    with DuckDBStore(data_dir) as store:
        scheduler = FeedScheduler(StoreFeedBook(store), feeds, clock=lambda: clock[0])
        runs = {r.name: r for r in scheduler.run_due()}
        assert runs["local"].ok and runs["local"].added == 1
        assert not runs["gone"].ok and "cannot read" in str(runs["gone"].error)
        assert scheduler.due() == []
        clock[0] += 20 * 60 * NS_PER_S  # a failed feed is retried after 15 minutes
        assert [f.name for f in scheduler.due()] == ["gone"]
        clock[0] += 60 * 60 * NS_PER_S
        assert {f.name for f in scheduler.due()} == {"local", "gone"}
        state = scheduler.state()
        assert state["local"]["ok"] and state["gone"]["last_error"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("feeds:\n  - {name: x, type: taxii}\n", "url"),
        ("feeds:\n  - {name: x, type: file, path: a, interval: soon}\n", "duration"),
        ("feeds:\n  - {name: x, type: file, path: a, colour: red}\n", "colour"),
        ("feeds: [\n", "invalid YAML"),
    ],
)
def test_bad_feed_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "feeds.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_feeds(path)


def test_a_file_feeds_relative_path_is_relative_to_the_feeds_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    (folder / "list.txt").write_text("198.51.100.9\n")
    config = folder / "feeds.yml"
    config.write_text("feeds:\n  - {name: local, type: file, path: list.txt}\n")
    monkeypatch.chdir(tmp_path)  # not the feeds file's folder
    (feed,) = load_feeds(config)
    assert feed.path == folder / "list.txt"
    with DuckDBStore(tmp_path / "data") as store:
        (run,) = FeedScheduler(StoreFeedBook(store), [feed]).run_due()
    assert run.ok and run.added == 1
