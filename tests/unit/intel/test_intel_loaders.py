"""Loaders: the good indicators load, each bad one is refused with a reason and a place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
import stix2

from heron.intel.errors import IntelFormatError
from heron.intel.loaders import LoadOptions, detect_format, load_path, parse_bytes
from heron.model.timeutil import NS_PER_S, parse_timestamp

NOW = parse_timestamp("2026-06-01T00:00:00Z")
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
OPTIONS = LoadOptions(now=NOW)


def _values(result: Any) -> list[tuple[str, str]]:
    return sorted((i.type, i.value) for i in result.all_indicators())


def _parse(text: str | bytes, fmt: str = "auto", **kw: Any) -> Any:
    data = text.encode() if isinstance(text, str) else text
    options = LoadOptions(now=NOW, **kw)
    return parse_bytes(data, options, where="input", source="test", fmt=fmt)


# -- plain lists ------------------------------------------------------------------------


def test_plain_list_types_comments_and_hosts_file_lines() -> None:
    result = _parse(
        "# header comment\n198.51.100.7\n203.0.113.0/24  # a range\n0.0.0.0 ads.example\n"
        "http://evil.example/a#frag\nd41d8cd98f00b204e9800998ecf8427e\n\nBücher.example\n"
        "2001:db8::1\n"
    )
    assert result.format == "plain"
    assert _values(result) == [
        ("domain-name", "ads.example"),
        ("domain-name", "xn--bcher-kva.example"),
        ("ipv4-addr", "198.51.100.7"),
        ("ipv4-addr", "203.0.113.0/24"),
        ("ipv6-addr", "2001:db8::1"),
        ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
        ("url", "http://evil.example/a"),
    ]
    assert not result.errors
    assert {i.source for i in result.all_indicators()} == {"test"}


def test_plain_list_bad_lines_are_refused_with_line_numbers() -> None:
    result = _parse("198.51.100.7\ntwo values\ncom\n999.1.1.1/8\nevil.example\n")
    assert _values(result) == [("domain-name", "evil.example"), ("ipv4-addr", "198.51.100.7")]
    places = sorted(e.where for e in result.errors)
    assert places == ["input:2", "input:3", "input:4"]
    assert "single label" in next(str(e) for e in result.errors if e.where == "input:3")


def test_ttl_gives_an_expiry_and_tags_are_added() -> None:
    result = _parse("198.51.100.7\n", ttl=7 * 86400 * NS_PER_S, tags=("campaign-x",))
    (ind,) = result.all_indicators()
    assert ind.expires == NOW + 7 * 86400 * NS_PER_S
    assert ind.tags == ("campaign-x",)


# -- CSV --------------------------------------------------------------------------------


def test_csv_with_header_and_broken_rows() -> None:
    text = (
        "value,type,source,confidence,first_seen,expires,tags,alert\n"
        "198.51.100.7,ip,feodo,90,2026-05-01T00:00:00Z,2027-01-01,c2;botnet,true\n"
        "evil.example,domain,,40,,,,no\n"
        "broken row\n"
        "2001:db8::/48,,,,,,,\n"
        "bücher.example,domain,,high,,,,\n"  # confidence is not a number
        "old.example,domain,,,,2020-01-01,,\n"  # already expired
        "xn--bcher-kva.example,domain,,,,,,\n"
    )
    result = _parse(text)
    assert result.format == "csv"
    assert _values(result) == [
        ("domain-name", "evil.example"),
        ("domain-name", "xn--bcher-kva.example"),
        ("ipv4-addr", "198.51.100.7"),
        ("ipv6-addr", "2001:db8::/48"),
    ]
    first = next(i for i in result.indicators if i.value == "198.51.100.7")
    assert (first.source, first.confidence, first.tags, first.alert) == (
        "feodo",
        90,
        ("c2", "botnet"),
        True,
    )
    assert first.first_seen == parse_timestamp("2026-05-01T00:00:00Z")
    assert next(i for i in result.indicators if i.value == "evil.example").alert is False
    reasons = {e.where: e.reason for e in result.errors}
    assert "columns" in reasons["input:4"]
    assert "confidence" in reasons["input:6"]
    assert "expired" in reasons["input"]  # expiry is checked after parsing, for all formats


def test_csv_abuse_ch_style_comment_header() -> None:
    text = (
        "#####\n# ThreatFox IOCs\n#####\n"
        '# "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type","malware_printable",'
        '"confidence_level","tags"\n'
        '"2026-05-01 10:00:00", "1", "198.51.100.7:443", "ip:port", "botnet_cc", "Emotet", '
        '"100", "c2"\n'
        '"2026-05-01 10:00:00", "2", "' + SHA256 + '",'
        ' "sha256_hash", "payload", "X", "50", ""\n'
    )
    result = _parse(text)
    assert result.format == "csv"
    assert _values(result) == [
        ("ipv4-addr", "198.51.100.7"),
        ("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ]
    assert result.indicators[0].description == "Emotet"


def test_csv_typed_columns() -> None:
    result = _parse(
        "ip,domain,sha1\n198.51.100.7,evil.example,\n,,da39a3ee5e6b4b0d3255bfef95601890afd80709\n"
    )
    assert [t for t, _ in _values(result)] == ["domain-name", "ipv4-addr", "sha1"]


# -- MISP -------------------------------------------------------------------------------


def _misp_event(**extra: Any) -> dict[str, Any]:
    event = {
        "uuid": "5f1d2c3b-0000-4000-8000-000000000001",
        "info": "Phishing wave",
        "threat_level_id": "1",
        "Orgc": {"name": "CIRCL"},
        "Tag": [{"name": "tlp:amber"}, {"name": "phishing"}],
        "Attribute": [
            {"uuid": "a1", "type": "ip-dst", "value": "198.51.100.7", "to_ids": True},
            {"uuid": "a2", "type": "domain", "value": "evil.example", "to_ids": False},
            {"uuid": "a3", "type": "filename|sha256", "to_ids": True,
             "value": "x.exe|e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
            {"uuid": "a4", "type": "text", "value": "some note"},
            {"uuid": "a5", "type": "ip-src", "value": "not-an-ip", "to_ids": True},
            {"uuid": "a6", "type": "url", "value": "http://evil.example/x", "deleted": True},
            {"uuid": "a7", "type": "domain|ip", "value": "c2.example|203.0.113.9"},
        ],
        "Object": [
            {"name": "email", "Attribute": [{"uuid": "o1", "type": "email-src",
                                             "value": "Mallory@Evil.Example"}]}
        ],
    }  # fmt: skip
    event.update(extra)
    return {"Event": event}


def test_misp_event_json() -> None:
    result = _parse(orjson.dumps(_misp_event()))
    assert result.format == "misp"
    assert _values(result) == [
        ("domain-name", "c2.example"),
        ("domain-name", "evil.example"),
        ("email-addr", "mallory@evil.example"),
        ("ipv4-addr", "198.51.100.7"),
        ("ipv4-addr", "203.0.113.9"),
        ("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ]
    by_value = {i.value: i for i in result.indicators}
    ip = by_value["198.51.100.7"]
    assert (ip.source, ip.severity, ip.tlp, ip.alert, ip.tags) == (
        "CIRCL",
        "high",
        "amber",
        True,
        ("phishing",),
    )
    assert by_value["evil.example"].alert is False  # to_ids false: enrich only
    reasons = [e.reason for e in result.errors]
    assert any("not-an-ip" in r for r in reasons)
    assert any("Heron does not match" in r and "text" in r for r in reasons)


def test_misp_search_response_and_feed_folder(tmp_path: Path) -> None:
    response = {"response": [_misp_event()]}
    assert detect_format(orjson.dumps(response)) == "misp"
    feed = tmp_path / "feed"
    feed.mkdir()
    uuid = "5f1d2c3b-0000-4000-8000-000000000001"
    (feed / "manifest.json").write_bytes(orjson.dumps({uuid: {"info": "Phishing wave"}}))
    (feed / f"{uuid}.json").write_bytes(orjson.dumps(_misp_event()))
    result = load_path(feed, LoadOptions(now=NOW, source="circl-feed"))
    assert result.format == "misp-feed"
    assert {i.source for i in result.indicators} == {"circl-feed"}
    assert len(result.indicators) == 6
    (feed / f"{uuid}.json").write_bytes(b"{not json")
    with pytest.raises(IntelFormatError, match=uuid):
        load_path(feed, OPTIONS)


# -- STIX -------------------------------------------------------------------------------

IDENTITY = stix2.Identity(name="ACME CTI", identity_class="organization")


def _indicator(pattern: str, **kw: Any) -> stix2.Indicator:
    return stix2.Indicator(
        pattern=pattern,
        pattern_type="stix",
        valid_from="2026-01-01T00:00:00Z",
        created_by_ref=IDENTITY.id,
        **kw,
    )


def _bundle(*objects: Any) -> bytes:
    return stix2.Bundle(IDENTITY, *objects, allow_custom=True).serialize().encode()


def test_stix_bundle_atomic_patterns() -> None:
    bundle = _bundle(
        _indicator(
            "[ipv4-addr:value = '198.51.100.7'] OR [domain-name:value = 'Evil.Example']",
            confidence=85,
            indicator_types=["malicious-activity"],
            object_marking_refs=[stix2.TLP_RED],
        ),
        _indicator("[ipv4-addr:value ISSUBSET '203.0.113.0/24']"),
        _indicator(
            f"[file:hashes.'SHA-256' = '{SHA256}'"
            " OR file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"
        ),
        _indicator("[url:value = 'http://evil.example/a\\'b']"),
        _indicator("[email-message:from_ref.value = 'mallory@evil.example']"),
        _indicator("[ipv6-addr:value = '2001:db8::1']", valid_until="2027-01-01T00:00:00Z"),
    )
    result = _parse(bundle)
    assert result.format == "stix"
    assert not result.errors, result.errors
    assert _values(result) == [
        ("domain-name", "evil.example"),
        ("email-addr", "mallory@evil.example"),
        ("ipv4-addr", "198.51.100.7"),
        ("ipv4-addr", "203.0.113.0/24"),
        ("ipv6-addr", "2001:db8::1"),
        ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
        ("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("url", "http://evil.example/a'b"),
    ]
    first = next(i for i in result.indicators if i.value == "198.51.100.7")
    assert (first.source, first.confidence, first.tlp) == ("ACME CTI", 85, "red")
    assert first.tags == ("malicious-activity",)
    assert first.reference and first.reference.startswith("indicator--")
    assert first.first_seen == parse_timestamp("2026-01-01T00:00:00Z")


def test_malformed_stix_is_refused_per_object_and_the_rest_loads() -> None:
    good = _indicator("[ipv4-addr:value = '198.51.100.7']")
    raw = orjson.loads(_bundle(good))
    template = orjson.loads(good.serialize())
    raw["objects"].extend(
        [
            {**template, "id": "indicator--00000000-0000-4000-8000-000000000001",
             "pattern": "[ipv4-addr:value = "},  # syntax error
            {**template, "id": "indicator--00000000-0000-4000-8000-000000000002",
             "pattern": f"[file:hashes.MD5 = '{MD5}' AND file:name = 'x']"},
            {**template, "id": "indicator--00000000-0000-4000-8000-000000000003",
             "pattern": "[domain-name:value = 'evil.example'] WITHIN 300 SECONDS"},
            {**template, "id": "indicator--00000000-0000-4000-8000-000000000004",
             "pattern_type": "snort", "pattern": "alert tcp any any -> any any"},
            {**template, "id": "indicator--00000000-0000-4000-8000-000000000005",
             "created": "yesterday"},
            {"type": "x-custom-thing", "id": "x-custom-thing--1"},
            {"type": "not-a-stix-type", "id": "not-a-stix-type--1"},
            {**template, "id": "indicator--00000000-0000-4000-8000-000000000006",
             "pattern": "[ipv4-addr:value = '300.1.1.1']"},
            {**template, "id": "indicator--00000000-0000-4000-8000-000000000007",
             "pattern": "[domain-name:value = 'old.example']",
             "valid_until": "2026-02-01T00:00:00Z"},
            "not an object",
        ]
    )  # fmt: skip
    result = _parse(orjson.dumps(raw))
    assert _values(result) == [("ipv4-addr", "198.51.100.7")]
    reasons = {e.where.rsplit(":", 1)[-1]: e.reason for e in result.errors}

    def why(suffix: str) -> str:
        return next(r for w, r in reasons.items() if w.endswith(suffix))

    assert "invalid STIX pattern" in why("0001")
    assert "not atomic" in why("0002")
    assert "not atomic" in why("0003")
    assert "'snort'" in why("0004")
    assert "invalid STIX indicator" in why("0005") and "created" in why("0005")
    assert "unknown STIX object type 'not-a-stix-type'" in why("not-a-stix-type--1")
    assert "300.1.1.1" in why("0006")
    assert any("expired" in e.reason and "old.example" in e.reason for e in result.errors)
    assert any("not a STIX object" in e.reason for e in result.errors)
    assert not any("x-custom" in e.where for e in result.errors)  # custom objects: context


def test_revoked_stix_indicators_are_withdrawn_not_loaded() -> None:
    indicator = _indicator("[domain-name:value = 'evil.example']")
    revoked = indicator.new_version(revoked=True)
    result = _parse(_bundle(revoked))
    assert result.indicators == []
    assert [(i.type, i.value) for i in result.revoked] == [("domain-name", "evil.example")]


def test_format_detection(tmp_path: Path) -> None:
    assert detect_format(_bundle(_indicator("[ipv4-addr:value = '198.51.100.7']"))) == "stix"
    assert detect_format(b"value,type\n1.2.3.4,ip\n") == "csv"
    assert detect_format(b"1.2.3.4\nevil.example\n") == "plain"
    with pytest.raises(IntelFormatError, match="neither"):
        detect_format(b'{"hello": "world"}')
    with pytest.raises(IntelFormatError, match="invalid JSON"):
        detect_format(b'{"type": "bundle", ')
    with pytest.raises(IntelFormatError, match="cannot read"):
        load_path(tmp_path / "missing.txt", OPTIONS)
    with pytest.raises(IntelFormatError, match="UTF-8"):
        _parse(b"\xff\xfe1.2.3.4\n")
