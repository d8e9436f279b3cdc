"""Retro-matching new indicators against stored events, and ``heron intel`` end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from heron.alerts.store import AlertStore
from heron.cli.main import main
from heron.intel.indicator import make_indicator
from heron.intel.retro import retro_match
from heron.intel.store import IntelStore
from heron.model.event import EventBatch
from heron.model.timeutil import NS_PER_S, now_ns
from heron.store.duckdb import DuckDBStore

DAY = 86400 * NS_PER_S
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def _event(eid: str, age_days: float, **fields: Any) -> dict[str, Any]:
    return {"@timestamp": now_ns() - int(age_days * DAY), "event.id": eid, **fields}


@pytest.fixture
def stored(data_dir: Path) -> Path:
    with DuckDBStore(data_dir) as store:
        store.append(
            EventBatch(
                [
                    _event("old", 40, **{"source.ip": "198.51.100.7"}),
                    _event("ip", 3, **{"source.ip": "198.51.100.7", "user.name": "bob"}),
                    _event("cidr", 2, **{"destination.ip": "203.0.113.77"}),
                    _event("dns", 1, **{"dns.question.name": "a.b.evil.example"}),
                    _event("hash", 1, **{"file.hash.sha256": SHA256.upper()}),
                    _event("sysmon", 1, Hashes=f"MD5={MD5},SHA1=AA"),
                    _event("list", 1, **{"dns.resolved_ip": ["192.0.2.1", "198.51.100.200"]}),
                    _event("quiet", 1, **{"source.ip": "192.0.2.50"}),
                    _event(
                        "clean", 1, **{"source.ip": "192.0.2.99", "dns.question.name": "ok.example"}
                    ),
                ]
            )
        )
    return data_dir


def test_retro_match_finds_past_hits_in_the_window(stored: Path) -> None:
    indicators = [
        make_indicator(None, "198.51.100.7", "feodo", confidence=90),
        make_indicator(None, "203.0.113.0/24", "ranges"),
        make_indicator(None, "evil.example", "dns-feed"),
        make_indicator(None, SHA256, "bazaar"),
        make_indicator(None, MD5, "bazaar"),
        make_indicator(None, "198.51.100.200", "resolver-watch"),
        make_indicator(None, "192.0.2.50", "context", alert=False),
    ]
    with DuckDBStore(stored) as store:
        found = retro_match(store, indicators, 30)
        assert retro_match(store, indicators, 0) == []
    by_event = {d.event_ids[0]: d for d in found}
    assert set(by_event) == {"ip", "cidr", "dns", "hash", "sysmon", "list"}
    assert by_event["ip"].rule_id == "intel:feodo"
    assert by_event["ip"].entities["user.name"] == "bob"
    assert by_event["dns"].rule_name == "Threat intel match: evil.example"
    assert [d.event_ids[0] for d in found] == sorted(
        (d.event_ids[0] for d in found), key=lambda e: by_event[e].timestamp
    )


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_retro_match_leaves_events_matched_as_they_came_in(data_dir: Path) -> None:
    from heron.enrich.intel import IntelEnricher
    from heron.intel.matcher import IntelMatcher
    from heron.intel.store import stored_form

    feodo = make_indicator(None, "198.51.100.7", "feodo")
    # Both events are in the store; one came in after a running node applied the
    # indicator, and its match was judged then.
    live = _event("live", 1, **{"source.ip": "198.51.100.7"})
    IntelEnricher(IntelMatcher(stored_form([feodo]))).enrich([live])
    assert live["threat.enrichments"][0]["heron.indicator.value"] == "198.51.100.7"
    # A match of another indicator, or on another field, is still new.
    other = _event("other", 1, **{"source.ip": "198.51.100.7", "destination.ip": "203.0.113.9"})
    IntelEnricher(IntelMatcher(stored_form([feodo]))).enrich([other])
    with DuckDBStore(data_dir) as store:
        store.append(EventBatch([_event("past", 2, **{"source.ip": "198.51.100.7"}), live, other]))
        found = retro_match(store, [feodo, make_indicator(None, "203.0.113.9", "ranges")], 30)
    assert sorted((d.event_ids[0], d.rule_id) for d in found) == [
        ("other", "intel:ranges"),
        ("past", "intel:feodo"),
    ]


def test_cli_load_retro_alerts_list_and_expire(stored: Path, tmp_path: Path) -> None:
    feed = tmp_path / "feed.txt"
    feed.write_text("198.51.100.7\nevil.example\nnot valid value\n")
    result = _run("intel", "load", str(feed), "--json", "--data-dir", str(stored))
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout.strip().splitlines()[-1])
    assert summary["added"] == 2 and summary["refused"] == 1
    assert summary["retro_hits"] == 2 and summary["alerts"] >= 1
    with DuckDBStore(stored) as store:
        assert {a.rule_id for a in AlertStore(store).list()} == {"intel:feed"}
    again = _run("intel", "load", str(feed), "--json", "--data-dir", str(stored))
    assert orjson.loads(again.stdout.strip().splitlines()[-1])["retro_hits"] == 0  # not new
    listed = _run("intel", "list", "--format", "json", "--data-dir", str(stored))
    rows = [orjson.loads(line) for line in listed.stdout.splitlines()]
    assert {r["value"] for r in rows} == {"198.51.100.7", "evil.example"}
    expired = _run("intel", "expire", "--json", "--data-dir", str(stored))
    assert orjson.loads(expired.stdout) == {"expired": 0, "remaining": 2}


def test_cli_loads_nothing_when_one_input_is_unreadable(data_dir: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("198.51.100.7\n")
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "bundle", "objects": [')
    result = _run("intel", "load", str(good), str(bad), "--data-dir", str(data_dir))
    assert result.exit_code != 0
    assert "invalid JSON" in result.output and "nothing loaded" in result.output
    strict = _run("intel", "load", str(good), "--strict", "--data-dir", str(data_dir))
    assert strict.exit_code == 0
    bad.write_text("198.51.100.8\ncom\n")
    refused = _run("intel", "load", str(bad), "--strict", "--data-dir", str(data_dir))
    assert refused.exit_code != 0 and "nothing loaded" in refused.output
    with DuckDBStore(data_dir) as store:
        assert [r["value"] for r in IntelStore(store).list()] == ["198.51.100.7"]
