"""Canonical forms of indicator values: the same key on the feed side and the event side."""

from __future__ import annotations

import pytest

from heron.intel.errors import IndicatorError
from heron.intel.indicator import (
    DOMAIN,
    EMAIL,
    IPV4,
    IPV6,
    MD5,
    SHA256,
    URL,
    canonical_domain,
    canonical_ip,
    canonical_url,
    classify,
    confidence_label,
    make_indicator,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("198.51.100.7", (IPV4, "198.51.100.7")),
        (" 198.51.100.7 ", (IPV4, "198.51.100.7")),
        ("10.1.2.3/8", (IPV4, "10.0.0.0/8")),  # host bits masked off
        ("10.1.2.3/32", (IPV4, "10.1.2.3")),  # a /32 is the address
        ("2001:DB8:0:0::1", (IPV6, "2001:db8::1")),
        ("[2001:db8::1]", (IPV6, "2001:db8::1")),
        ("2001:db8::/32", (IPV6, "2001:db8::/32")),
        ("::ffff:192.0.2.1", (IPV4, "192.0.2.1")),  # IPv4-mapped IPv6
        ("fe80::1%eth0", (IPV6, "fe80::1")),
    ],
)
def test_ip_forms(text: str, expected: tuple[str, str]) -> None:
    assert canonical_ip(text) == expected


@pytest.mark.parametrize(
    "text", ["300.1.1.1", "1.2.3", "01.2.3.4", "10.0.0.0/33", "0.0.0.0/0", "x"]
)
def test_bad_ips_are_refused(text: str) -> None:
    with pytest.raises(IndicatorError):
        canonical_ip(text)


def test_domains_lower_case_punycode_and_no_trailing_dot() -> None:
    assert canonical_domain("Evil.Example.") == "evil.example"
    assert canonical_domain("*.evil.example") == "evil.example"
    assert canonical_domain("Bücher.Example") == "xn--bcher-kva.example"
    assert canonical_domain("xn--bcher-kva.example") == "xn--bcher-kva.example"
    assert canonical_domain("_dmarc.evil.example") == "_dmarc.evil.example"


@pytest.mark.parametrize("text", ["com", "evil..example", "bad domain.example", "a" * 64 + ".com"])
def test_bad_domains_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(IndicatorError) as caught:
        canonical_domain(text)
    assert text[:10] in str(caught.value)


def test_urls_canonical() -> None:
    assert canonical_url("HTTP://Evil.Example:80/Path?q=1#frag") == "http://evil.example/Path?q=1"
    assert canonical_url("evil.example/x") == "http://evil.example/x"
    assert canonical_url("https://evil.example") == "https://evil.example/"
    assert canonical_url("https://user:pw@evil.example:8443/a") == "https://evil.example:8443/a"
    assert canonical_url("http://[2001:DB8::1]/x") == "http://[2001:db8::1]/x"
    assert canonical_url("http://bücher.example/") == "http://xn--bcher-kva.example/"
    with pytest.raises(IndicatorError):
        canonical_url("http:///nohost")


def test_classify_tells_types_apart() -> None:
    assert classify("D41D8CD98F00B204E9800998ECF8427E") == (MD5, "d41d8cd98f00b204e9800998ecf8427e")
    assert classify("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")[0] == SHA256
    assert classify("203.0.113.0/24") == (IPV4, "203.0.113.0/24")
    assert classify("2001:db8::5") == (IPV6, "2001:db8::5")
    assert classify("Mallory@Evil.Example") == (EMAIL, "mallory@evil.example")
    assert classify("evil.example/payload.exe")[0] == URL
    assert classify("1password.example") == (DOMAIN, "1password.example")


def test_make_indicator_checks_attributes() -> None:
    ind = make_indicator(
        "ip-dst", "198.51.100.7", "feed", confidence=80, severity="High", tlp="AMBER"
    )
    assert (ind.type, ind.value, ind.severity, ind.tlp) == (IPV4, "198.51.100.7", "high", "amber")
    with pytest.raises(IndicatorError, match="confidence"):
        make_indicator(None, "198.51.100.7", "feed", confidence=101)
    with pytest.raises(IndicatorError, match="severity"):
        make_indicator(None, "198.51.100.7", "feed", severity="urgent")
    with pytest.raises(IndicatorError, match="unknown indicator type"):
        make_indicator("mutex", "x", "feed")
    with pytest.raises(IndicatorError, match="length of md5"):
        make_indicator("sha256", "d41d8cd98f00b204e9800998ecf8427e", "feed")


def test_confidence_labels_follow_stix_appendix_a() -> None:
    assert [confidence_label(c) for c in (None, 0, 10, 50, 90)] == [
        "Not Specified",
        "None",
        "Low",
        "Medium",
        "High",
    ]
