"""GeoIP/ASN from a MaxMind-format database the test writes itself; address scopes."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from heron.enrich.build import build_enrichers, geoip_databases
from heron.enrich.geoip import GeoIpEnricher, ip_scope


def _write_city_db(path: Path) -> Path:
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoIP2-City")
    writer.insert_network(
        IPSet(["198.51.99.0/24"]),
        {
            "country": {"iso_code": "DE", "names": {"en": "Germany"}},
            "continent": {"code": "EU", "names": {"en": "Europe"}},
            "city": {"names": {"en": "Berlin"}},
            "subdivisions": [{"iso_code": "BE", "names": {"en": "Land Berlin"}}],
            "location": {"latitude": 52.52, "longitude": 13.405, "time_zone": "Europe/Berlin"},
        },
    )
    writer.insert_network(
        IPSet(["2a00:1450::/32"]), {"country": {"iso_code": "IE", "names": {"en": "Ireland"}}}
    )
    writer.to_db_file(str(path))
    return path


def _write_asn_db(path: Path) -> Path:
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-ASN")
    writer.insert_network(
        IPSet(["198.51.99.0/24"]),
        {"autonomous_system_number": 64500, "autonomous_system_organization": "Example Net"},
    )
    writer.to_db_file(str(path))
    return path


def test_geo_and_asn_fields(tmp_path: Path) -> None:
    enricher = GeoIpEnricher(
        [_write_city_db(tmp_path / "city.mmdb"), _write_asn_db(tmp_path / "asn.mmdb")]
    )
    events: list[dict[str, Any]] = [
        {"source.ip": "198.51.99.20", "destination.ip": "10.1.2.3"},
        {"client.ip": "2a00:1450::1", "server.ip": "127.0.0.1"},
        {"source.ip": "not an ip"},
    ]
    enricher.enrich(events)
    first = events[0]
    assert first["source.geo.country_iso_code"] == "DE"
    assert first["source.geo.country_name"] == "Germany"
    assert first["source.geo.city_name"] == "Berlin"
    assert first["source.geo.region_iso_code"] == "DE-BE"
    assert (first["source.geo.location.lat"], first["source.geo.location.lon"]) == (52.52, 13.405)
    assert first["source.as.number"] == 64500
    assert first["source.as.organization.name"] == "Example Net"
    assert first["source.ip_scope"] == "public"
    assert first["destination.ip_scope"] == "private"
    assert not any(k.startswith("destination.geo") for k in first)  # private: never looked up
    assert events[1]["client.geo.country_iso_code"] == "IE"
    assert events[1]["server.ip_scope"] == "loopback"
    assert "source.ip_scope" not in events[2]
    enricher.close()


@pytest.mark.parametrize(
    ("ip", "scope"),
    [
        ("10.0.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private"),
        ("127.0.0.1", "loopback"),
        ("169.254.10.10", "link_local"),
        ("224.0.0.251", "multicast"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.1", "reserved"),
        ("0.0.0.0", "reserved"),
        ("8.8.8.8", "public"),
        ("172.32.0.1", "public"),
        ("::1", "loopback"),
        ("fe80::1", "link_local"),
        ("fd00::1", "private"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "reserved"),
        ("::ffff:10.0.0.1", "private"),
        ("2606:4700::1111", "public"),
        ("nonsense", None),
    ],
)
def test_scopes(ip: str, scope: str | None) -> None:
    assert ip_scope(ip) == scope


def test_without_a_database_one_warning_and_scopes_still_marked(
    data_dir: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HERON_GEOIP_DB", raising=False)
    with caplog.at_level(logging.WARNING, logger="heron.enrich.geoip"):
        enrichers = build_enrichers(data_dir)
        geo = next(e for e in enrichers if e.name == "geoip")
        events = [{"source.ip": f"8.8.8.{i}"} for i in range(50)]
        geo.enrich(events)
    warnings = [r for r in caplog.records if r.name == "heron.enrich.geoip"]
    assert len(warnings) == 1 and "no GeoIP database" in warnings[0].getMessage()
    assert all(e["source.ip_scope"] == "public" for e in events)
    assert not any("source.geo.country_iso_code" in e for e in events)


def test_an_unreadable_database_is_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bad = tmp_path / "broken.mmdb"
    bad.write_bytes(b"this is not a MaxMind database")
    with caplog.at_level(logging.WARNING, logger="heron.enrich.geoip"):
        enricher = GeoIpEnricher([bad])
    assert enricher.readers == []
    assert enricher.warning is not None and "broken.mmdb" in enricher.warning
    assert len(caplog.records) == 1


def test_database_discovery(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HERON_GEOIP_DB", raising=False)
    (data_dir / "geoip").mkdir(parents=True)
    city = _write_city_db(data_dir / "geoip" / "city.mmdb")
    assert geoip_databases(data_dir) == [city]
    other = _write_asn_db(tmp_path / "asn.mmdb")
    monkeypatch.setenv("HERON_GEOIP_DB", str(other))
    assert geoip_databases(data_dir) == [other]
    assert geoip_databases(data_dir, [city]) == [city]
