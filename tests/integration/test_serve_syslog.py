"""Syslog over TCP, UDP and TLS into a running server, on real loopback sockets."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from heron.sources.syslog import READ_BYTES

from .serving import dead_letters, free_port, query, serving

LINES = [
    f"<38>Oct 11 22:14:{i % 60:02d} host{i % 3} sshd[{100 + i}]: message number {i}"
    for i in range(500)
]


def octet(msg: str) -> bytes:
    data = msg.encode()
    return str(len(data)).encode() + b" " + data


def send_tcp(port: int, data: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        sock.recv(1)  # wait for the server to close: everything was read


def tcp_source(port: int, **extra: object) -> dict[str, object]:
    return {"type": "syslog", "protocol": "tcp", "port": port, "name": "tcp", **extra}


def test_tcp_lf_and_octet_counting(data_dir: Path) -> None:
    port = free_port()
    with serving(data_dir, sources=[tcp_source(port)]) as server:
        send_tcp(port, "".join(line + "\n" for line in LINES[:250]).encode())
        send_tcp(port, b"".join(octet(line) for line in LINES[250:]))
        server.wait_idle()
        assert server.source_count("tcp", "received") == 500
        assert server.source_count("tcp", "parsed") == 500
    rows = query(data_dir, 'SELECT "host.name" AS h, message, "event.original" AS o FROM events')
    assert sorted(r["o"] for r in rows) == sorted(LINES)
    assert {r["h"] for r in rows} == {"host0", "host1", "host2"}
    assert any(r["message"] == "message number 499" for r in rows)


def test_udp_datagrams(data_dir: Path) -> None:
    port = free_port(socket.SOCK_DGRAM)
    source = {"type": "syslog", "protocol": "udp", "port": port, "name": "udp"}
    with serving(data_dir, sources=[source]) as server:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for line in LINES[:100]:
                sock.sendto(line.encode(), ("127.0.0.1", port))
                time.sleep(0.0005)
        deadline = time.monotonic() + 10
        while server.source_count("udp", "parsed") < 100 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.source_count("udp", "parsed") == 100
        assert 'heron_source_kernel_dropped_total{source="udp",type="syslog"}' in server.metrics()
    assert len(query(data_dir, "SELECT 1 FROM events")) == 100


def test_bad_frames_are_counted_and_nothing_else_is_lost(data_dir: Path) -> None:
    port = free_port()
    good = LINES[:3]
    bad_lf = [
        "<999>Oct 11 22:14:15 host app: PRI above 191",
        "<abc>Oct 11 22:14:15 host app: PRI not a number",
        "<13>1 2024-01-01T00:00:00Z",  # RFC 5424 header cut short
    ]
    stream = (
        (
            "\ufeff"
            + good[0]
            + "\n"  # a BOM before the frame
            + "\n".join(bad_lf)
            + "\n"
            + "<13>"
            + "x" * 3000
            + "\n"  # over max_line_bytes
            + good[1]
            + "\n"
        ).encode()
        + b"<13>Oct 11 22:14:15 host app: bad \xff\xfe utf-8\n"
        + (good[2] + "\n").encode()
    )
    octets = (
        octet(good[0]) + b"20 " + good[1].encode() + octet(good[2]) + b"x9 junk\n" + octet(LINES[3])
    )
    with serving(data_dir, sources=[tcp_source(port)], limits={"max_line_bytes": 1024}) as server:
        send_tcp(port, stream)
        send_tcp(port, octets)
        server.wait_idle()
        received = server.source_count("tcp", "received")
        parsed = server.source_count("tcp", "parsed")
        failed = server.source_count("tcp", "failed")
    assert received == parsed + failed
    originals = {r["o"] for r in query(data_dir, 'SELECT "event.original" AS o FROM events')}
    # Every good line of both connections is stored, the BOM removed.
    assert set(good) | {LINES[3]} <= originals
    letters = dead_letters(data_dir)
    reasons = " | ".join(d["reason"] for d in letters)
    assert "malformed PRI '<999>'" in reasons
    assert "malformed PRI '<abc>'" in reasons
    assert "frame longer than the limit of 1024 bytes (3004 bytes)" in reasons
    assert "invalid UTF-8" in reasons
    assert "octet counting: expected a frame length and a space" in reasons
    # The cut RFC 5424 header is either kept as an event or dead-lettered with a reason.
    assert "<13>1 2024-01-01T00:00:00Z" in originals or any(
        d["raw"] == "<13>1 2024-01-01T00:00:00Z" for d in letters
    )
    assert all(d["location"].startswith("127.0.0.1:") for d in letters)
    assert failed == len(letters)


def _make_certs(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1/localhost, signed by it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Heron test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH, x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


@pytest.fixture
def certs(tmp_path: Path) -> tuple[Path, Path, Path]:
    folder = tmp_path / "certs"
    folder.mkdir()
    return _make_certs(folder)


def test_tls_octet_counted(data_dir: Path, certs: tuple[Path, Path, Path]) -> None:
    ca, cert, key = certs
    port = free_port()
    source = {
        "type": "syslog",
        "protocol": "tls",
        "port": port,
        "name": "tls",
        "tls": {"cert": str(cert), "key": str(key)},
    }
    with serving(data_dir, sources=[source]) as server:
        context = ssl.create_default_context(cafile=str(ca))
        with (
            socket.create_connection(("127.0.0.1", port)) as raw,
            context.wrap_socket(raw, server_hostname="localhost") as sock,
        ):
            sock.sendall(b"".join(octet(line) for line in LINES[:50]))
            sock.unwrap()
        deadline = time.monotonic() + 10
        while server.source_count("tls", "parsed") < 50 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.source_count("tls", "parsed") == 50
    assert len(query(data_dir, "SELECT 1 FROM events")) == 50


def test_tcp_backpressure_bounds_the_queue(data_dir: Path) -> None:
    port = free_port()
    limits = {"queue_events": 200, "batch_events": 100}
    with serving(data_dir, sources=[tcp_source(port)], limits=limits) as server:
        lines = [f"<13>Oct 11 22:14:15 host app: flood {i}" for i in range(20_000)]
        send_tcp(port, "".join(line + "\n" for line in lines).encode())
        server.wait_idle()
        metrics = server.metrics()
        assert server.source_count("tcp", "parsed") == 20_000
        # A TCP reader waits for room before it reads again: the queue never holds more
        # than its bound plus one read's worth of lines (taken when the queue was empty).
        one_read = READ_BYTES // len(lines[0])
        assert metrics["heron_queue_peak_events"] <= 200 + one_read
        assert metrics["heron_queue_peak_events"] < 20_000
    assert len(query(data_dir, "SELECT 1 FROM events")) == 20_000


def test_udp_flood_drops_are_counted(data_dir: Path) -> None:
    port = free_port(socket.SOCK_DGRAM)
    source = {"type": "syslog", "protocol": "udp", "port": port, "name": "udp"}
    limits = {"queue_events": 1, "batch_events": 1}
    with serving(data_dir, sources=[source], limits=limits) as server:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for i in range(20_000):
                sock.sendto(f"<13>Oct 11 22:14:15 host app: udp {i}".encode(), ("127.0.0.1", port))
        time.sleep(0.5)
        server.wait_idle()
        received = server.source_count("udp", "received")
        dropped = server.source_count("udp", "dropped")
        parsed = server.source_count("udp", "parsed")
    assert dropped > 0
    assert received == parsed + dropped
    assert len(query(data_dir, "SELECT 1 FROM events")) == parsed


RULE = """title: SSH failed password
id: 44444444-4444-4444-4444-444444444444
status: test
level: medium
logsource:
    product: linux
    service: sshd
detection:
    selection:
        message|contains: 'Failed password'
    condition: selection
"""


def test_detection_runs_on_network_events(tmp_path: Path, data_dir: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "ssh.yml").write_text(RULE)
    port = free_port()
    head = "<38>Oct 11 22:14:15 web01 sshd[4242]:"
    lines = [
        f"{head} Failed password for root from 10.1.2.3 port 22 ssh2",
        f"{head} Accepted password for root from 10.1.2.3 port 22 ssh2",
    ]
    with serving(data_dir, sources=[tcp_source(port)], detect=True, rules=[str(rules)]) as server:
        send_tcp(port, "".join(line + "\n" for line in lines).encode())
        server.wait_idle()
        alerts = server.rows('SELECT "rule.id" AS rule FROM alerts')
    assert [a["rule"] for a in alerts] == ["44444444-4444-4444-4444-444444444444"]
