"""Indicator matching on events, and the alerts the intel detector makes of matches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from heron.enrich.intel import IntelEnricher
from heron.intel.detect import IntelDetector, intel_level
from heron.intel.indicator import make_indicator
from heron.intel.matcher import IntelMatcher
from heron.intel.store import IntelStore, stored_form
from heron.model.timeutil import NS_PER_S
from heron.store.duckdb import DuckDBStore

NOW = 1_780_000_000 * NS_PER_S
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def _enricher(*indicators: Any) -> IntelEnricher:
    return IntelEnricher(IntelMatcher(stored_form(list(indicators))), clock=lambda: NOW)


def _matched(event: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted(
        (e["matched.field"], e["matched.atomic"], e["heron.indicator.value"])
        for e in event.get("threat.enrichments", [])
    )


def test_every_kind_of_field_matches() -> None:
    enricher = _enricher(
        make_indicator(None, "198.51.100.7", "feodo", confidence=90, tlp="amber"),
        make_indicator(None, "10.0.0.0/8", "internal-watch", confidence=20),
        make_indicator(None, "10.20.0.0/16", "internal-watch"),
        make_indicator(None, "2001:db8::/32", "v6-feed"),
        make_indicator(None, "evil.example", "dns-feed"),
        make_indicator(None, "bücher.example", "dns-feed"),
        make_indicator(None, "http://bad.example/dl.exe", "urlhaus"),
        make_indicator(None, SHA256, "malware-bazaar"),
        make_indicator(None, MD5, "malware-bazaar"),
        make_indicator(None, "mallory@evil.example", "phish-feed"),
    )
    events = [
        {"source.ip": "10.20.1.1", "destination.ip": "198.51.100.7", "host.name": "evil.example"},
        {"dns.question.name": "WWW.Evil.Example.", "dns.resolved_ip": ["2001:DB8::9"]},
        {"url.original": "https://bad.example/dl.exe", "url.domain": "xn--bcher-kva.example"},
        {"process.hash.sha256": SHA256.upper(), "Hashes": f"SHA1=AA,MD5={MD5.upper()},IMPHASH=BB"},
        {"email.from.address": "Mallory@evil.example", "source.ip": "203.0.113.1"},
        {"DestinationHostname": "cdn.bücher.example", "message": "nothing else"},
        {"source.ip": "203.0.113.1", "user.name": "alice"},
    ]
    enricher.enrich(events)
    assert _matched(events[0]) == [
        ("destination.ip", "198.51.100.7", "198.51.100.7"),
        ("source.ip", "10.20.1.1", "10.0.0.0/8"),
        ("source.ip", "10.20.1.1", "10.20.0.0/16"),
    ]  # host.name is the reporting host: never matched
    assert _matched(events[1]) == [
        ("dns.question.name", "WWW.Evil.Example.", "evil.example"),
        ("dns.resolved_ip", "2001:DB8::9", "2001:db8::/32"),
    ]
    assert _matched(events[2]) == [
        ("url.domain", "xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("url.original", "https://bad.example/dl.exe", "http://bad.example/dl.exe"),
    ]
    assert _matched(events[3]) == [
        ("Hashes", MD5.upper(), MD5),
        ("process.hash.sha256", SHA256.upper(), SHA256),
    ]
    assert _matched(events[4]) == [
        ("email.from.address", "Mallory@evil.example", "mallory@evil.example")
    ]
    assert _matched(events[5]) == [
        ("DestinationHostname", "cdn.bücher.example", "xn--bcher-kva.example")
    ]
    assert "threat.enrichments" not in events[6]
    entry = next(
        e for e in events[0]["threat.enrichments"] if e["matched.field"] == "destination.ip"
    )
    assert entry["indicator.type"] == "ipv4-addr"
    assert entry["indicator.provider"] == "feodo"
    assert entry["indicator.confidence"] == "High"
    assert entry["indicator.marking.tlp"] == "AMBER"
    assert entry["matched.type"] == "indicator_match_rule"


def test_an_indicator_expired_since_the_build_no_longer_matches() -> None:
    enricher = _enricher(make_indicator(None, "198.51.100.7", "a", expires=NOW - 1))
    event = {"source.ip": "198.51.100.7"}
    enricher.enrich([event])
    assert "threat.enrichments" not in event


def test_the_enricher_follows_the_snapshot(data_dir: Path) -> None:
    enricher = IntelEnricher.from_data_dir(data_dir, refresh_seconds=0)
    event: dict[str, Any] = {"source.ip": "198.51.100.7"}
    enricher.enrich([event])  # no indicators yet: nothing, and no error
    assert "threat.enrichments" not in event
    with DuckDBStore(data_dir) as store:
        IntelStore(store).load([make_indicator(None, "198.51.100.7", "a")])
    enricher.enrich([event])
    assert _matched(event) == [("source.ip", "198.51.100.7", "198.51.100.7")]
    assert enricher.generation == 1


def test_detector_levels_alert_flags_and_asset_criticality() -> None:
    enricher = _enricher(
        make_indicator(None, "198.51.100.7", "feodo", confidence=90),
        make_indicator(None, "203.0.113.5", "low-feed", confidence=10),
        make_indicator(None, "evil.example", "context-only", alert=False),
        make_indicator(None, "bad.example", "misp", severity="critical"),
    )
    events = [
        {"event.id": "e1", "@timestamp": NOW, "source.ip": "198.51.100.7", "user.name": "bob"},
        {"event.id": "e2", "@timestamp": NOW, "source.ip": "198.51.100.7",
         "asset.criticality": "critical", "host.name": "dc01"},
        {"event.id": "e3", "@timestamp": NOW, "destination.ip": "203.0.113.5"},
        {"event.id": "e4", "@timestamp": NOW, "dns.question.name": "evil.example"},
        {"event.id": "e5", "@timestamp": NOW, "url.original": "http://bad.example/"},
    ]  # fmt: skip
    enricher.enrich(events)
    found = {d.event_ids[0]: d for d in IntelDetector().detect(events)}
    assert set(found) == {"e1", "e2", "e3", "e5"}  # e4's indicator only enriches
    assert found["e1"].rule_id == "intel:feodo"
    assert found["e1"].rule_name == "Threat intel match: 198.51.100.7"
    assert found["e1"].level == "high"
    assert found["e1"].entities["user.name"] == "bob"
    assert found["e2"].level == "critical"  # one step up on a critical asset
    assert found["e2"].entities["asset.criticality"] == "critical"
    assert found["e3"].level == "low"
    assert found["e5"].level == "critical"
    assert "threat_intel" in found["e1"].tags
    assert {d.event_ids[0] for d in IntelDetector(min_confidence=50).detect(events)} == {
        "e1",
        "e2",
        "e5",
    }
    assert intel_level({"heron.indicator.score": 50}, "low") == "low"
