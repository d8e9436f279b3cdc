# ruff: noqa: E501 -- log records and their field tables read best one record a line.
"""Benign network traffic: the edge ASA, the core FortiGate (CEF) and the public web site."""

from __future__ import annotations

from heron.simulate.company import Company, public_ip
from heron.simulate.emit import SEC, Emitter
from heron.simulate.rhythm import hour_sample

__all__ = ["network_day"]

_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
)  # fmt: skip
_PAGES = (
    "/",
    "/products",
    "/products/heron-pro",
    "/pricing",
    "/blog/how-we-ship",
    "/contact",
    "/static/app.js",
    "/static/site.css",
    "/api/v1/status",
    "/login",
)
_PROBES = (
    "/wp-login.php",
    "/.env",
    "/phpmyadmin/index.php",
    "/.git/config",
    "/cgi-bin/luci",
    "/admin/config.php",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/boaform/admin/formLogin",
)
_SITES = (
    "13.107.42.14",
    "142.250.185.78",
    "52.113.194.132",
    "104.18.32.7",
    "151.101.1.69",
    "140.82.121.4",
    "20.190.160.2",
)


def _outbound(em: Emitter, c: Company, ns: int) -> None:
    rng = em.rng
    person = rng.choice(c.people)
    dst = rng.choice(_SITES)
    sport = rng.randint(49152, 65535)
    nport = rng.randint(1024, 65535)
    cid = em.connection_id()
    em.asa(
        ns,
        6,
        "302013",
        f"Built outbound TCP connection {cid} for outside:{dst}/443 ({dst}/443) to inside:{person.ip}/{sport} ({c.nat_ip}/{nport})",
    )
    dur = rng.randint(1, 900)
    sent, rcvd = rng.randint(800, 400_000), rng.randint(2_000, 8_000_000)
    em.asa(
        ns + dur * SEC,
        6,
        "302014",
        f"Teardown TCP connection {cid} for outside:{dst}/443 to inside:{person.ip}/{sport} duration {dur // 3600}:{dur % 3600 // 60:02d}:{dur % 60:02d} bytes {sent + rcvd} TCP FINs",
    )
    em.cef(
        ns + dur * SEC,
        {
            "src": person.ip,
            "spt": sport,
            "dst": dst,
            "dpt": 443,
            "proto": 6,
            "act": "accept",
            "out": sent,
            "in": rcvd,
            "app": "HTTPS",
            "suser": person.username,
            "deviceInboundInterface": "users",
            "deviceOutboundInterface": "wan1",
            "cnt": cid,
        },
    )


def _internal(em: Emitter, c: Company, ns: int) -> None:
    rng = em.rng
    person = rng.choice(c.people)
    server = c.hosts[rng.choice(("FS01", "EXCH01", "SQL01", "APP01", "DC01"))]
    port = {"FS01": 445, "EXCH01": 443, "SQL01": 1433, "APP01": 8443, "DC01": 389}[server.name]
    em.cef(
        ns,
        {
            "src": person.ip,
            "spt": rng.randint(49152, 65535),
            "dst": server.ip,
            "dpt": port,
            "proto": 6,
            "act": "accept",
            "out": rng.randint(500, 300_000),
            "in": rng.randint(500, 3_000_000),
            "app": "internal",
            "suser": person.username,
            "deviceInboundInterface": "users",
            "deviceOutboundInterface": "servers",
            "cnt": em.connection_id(),
        },
    )


def _inbound_deny(em: Emitter, c: Company, ns: int) -> None:
    rng = em.rng
    src = public_ip(rng)
    port = rng.choice((23, 445, 3389, 1433, 8080, 5900, 6379))
    em.asa(
        ns,
        4,
        "106023",
        f'Deny tcp src outside:{src}/{rng.randint(1024, 65535)} dst outside:{c.nat_ip}/{port} by access-group "outside_access_in" [0x0, 0x0]',
    )


def _web(em: Emitter, c: Company, ns: int) -> None:
    rng = em.rng
    client = public_ip(rng)
    for _ in range(rng.randint(1, 6)):
        page = rng.choice(_PAGES)
        status = 200 if rng.random() < 0.96 else rng.choice((304, 404, 500))
        em.web(
            ns,
            client=client,
            user="-",
            method="GET",
            path=page,
            status=status,
            size=rng.randint(300, 90_000),
            referer="https://www.google.com/" if page == "/" else "https://www.corp.example/",
            agent=rng.choice(_AGENTS),
        )
        ns += rng.randint(1, 30) * SEC


def _web_scanner(em: Emitter, c: Company, ns: int) -> None:
    rng = em.rng
    client = public_ip(rng)
    for path in rng.sample(_PROBES, rng.randint(3, len(_PROBES))):
        em.web(
            ns,
            client=client,
            user="-",
            method="GET",
            path=path,
            status=404,
            size=162,
            referer="-",
            agent=rng.choice(
                (
                    "Mozilla/5.0 zgrab/0.x",
                    "python-requests/2.31.0",
                    "Mozilla/5.0 (compatible; CensysInspect/1.1)",
                )
            ),
        )
        ns += rng.randint(100, 900) * 1_000_000


def network_day(em: Emitter, c: Company, day_ns: int, weekend: bool, scale: float) -> None:
    """One day of firewall and web traffic."""
    rng = em.rng
    for _ in range(int(1500 * scale * (0.3 if weekend else 1.0))):
        _outbound(em, c, hour_sample(rng, day_ns, weekend))
    for _ in range(int(700 * scale * (0.3 if weekend else 1.0))):
        _internal(em, c, hour_sample(rng, day_ns, weekend))
    for _ in range(int(300 * scale)):
        _inbound_deny(em, c, day_ns + rng.randrange(24 * 3600) * SEC)
    for _ in range(int(500 * scale)):
        _web(em, c, hour_sample(rng, day_ns, False))
    for _ in range(rng.randint(3, 8)):
        _web_scanner(em, c, day_ns + rng.randrange(24 * 3600) * SEC)
