"""rsyslog (the real daemon, from the distribution) forwarding to Heron over TCP and TLS.

The test starts ``rsyslogd -n -f <its own config>``: no local sockets (imuxsock and
imklog are not loaded), one ``imtcp`` input on loopback that the test writes to, and
one ``omfwd`` action to Heron. Skipped when rsyslogd is not installed
(``apt-get install rsyslog rsyslog-gnutls``).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .serving import ServerThread, free_port, serving
from .test_serve_syslog import _make_certs

RSYSLOGD = shutil.which("rsyslogd") or (
    "/usr/sbin/rsyslogd" if Path("/usr/sbin/rsyslogd").exists() else None
)
GTLS = any(
    Path(p).exists()
    for p in (
        "/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so",
        "/usr/lib/aarch64-linux-gnu/rsyslog/lmnsd_gtls.so",
        "/usr/lib/rsyslog/lmnsd_gtls.so",
    )
)
pytestmark = pytest.mark.skipif(
    RSYSLOGD is None, reason="rsyslogd is not installed (apt-get install rsyslog rsyslog-gnutls)"
)

COUNT = 2000


def _rsyslog(folder: Path, action: str, preamble: str = "") -> Iterator[int]:
    """Run rsyslogd with an imtcp input and ``action``; yields the input port."""
    work = folder / "work"
    work.mkdir(parents=True)
    in_port = free_port()
    conf = folder / "rsyslog.conf"
    conf.write_text(f"""
global(workDirectory="{work}" {preamble})
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="{in_port}")
{action}
""")
    check = subprocess.run([RSYSLOGD, "-N1", "-f", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    proc = subprocess.Popen(
        [RSYSLOGD, "-n", "-f", str(conf), "-i", str(folder / "rsyslog.pid")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", in_port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else b""
                time.sleep(0.05)
        yield in_port
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def _send_through(in_port: int) -> None:
    lines = b"".join(
        f"<38>Oct 11 22:14:{i % 60:02d} relay{i % 4} sshd[{2000 + i}]: rsyslog test {i}\n".encode()
        for i in range(COUNT)
    )
    with socket.create_connection(("127.0.0.1", in_port)) as sock:
        sock.sendall(lines)


def _wait_all(server: ServerThread, source: str) -> None:
    deadline = time.monotonic() + 60
    while server.source_count(source, "received") < COUNT and time.monotonic() < deadline:
        time.sleep(0.1)
    server.wait_idle()


def _check(server: ServerThread, source: str) -> None:
    assert server.source_count(source, "parsed") == COUNT
    assert server.source_count(source, "failed") == 0
    rows = server.rows('SELECT message, "host.name" AS host, "process.name" AS proc FROM events')
    # rsyslog's RFC 5424 template puts its %msg% (with the space after the tag) as MSG.
    messages = sorted(r["message"].lstrip(" ") for r in rows)
    assert messages == sorted(f"rsyslog test {i}" for i in range(COUNT))
    assert {r["host"] for r in rows} == {"relay0", "relay1", "relay2", "relay3"}
    assert {r["proc"] for r in rows} == {"sshd"}


def test_rsyslog_forwards_over_tcp(tmp_path: Path, data_dir: Path) -> None:
    port = free_port()
    source = {"type": "syslog", "protocol": "tcp", "port": port, "name": "from-rsyslog"}
    action = (
        f'action(type="omfwd" target="127.0.0.1" port="{port}" protocol="tcp" '
        'template="RSYSLOG_ForwardFormat" action.resumeRetryCount="-1")'
    )
    with serving(data_dir, sources=[source]) as server:
        for in_port in _rsyslog(tmp_path / "rsyslog", action):
            _send_through(in_port)
            _wait_all(server, "from-rsyslog")
        _check(server, "from-rsyslog")


@pytest.mark.skipif(
    not GTLS, reason="rsyslog's TLS driver is not installed (apt-get install rsyslog-gnutls)"
)
def test_rsyslog_forwards_over_tls_octet_counted(tmp_path: Path, data_dir: Path) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    ca, cert, key = _make_certs(certs)
    port = free_port()
    source = {
        "type": "syslog",
        "protocol": "tls",
        "port": port,
        "name": "from-rsyslog-tls",
        "framing": "octet",
        "tls": {"cert": str(cert), "key": str(key)},
    }
    action = (
        f'action(type="omfwd" target="127.0.0.1" port="{port}" protocol="tcp" '
        'StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name" '
        'StreamDriverPermittedPeers="localhost" TCP_Framing="octet-counted" '
        'template="RSYSLOG_SyslogProtocol23Format" action.resumeRetryCount="-1")'
    )
    preamble = f'DefaultNetstreamDriverCAFile="{ca}"'
    with serving(data_dir, sources=[source]) as server:
        for in_port in _rsyslog(tmp_path / "rsyslog", action, preamble):
            _send_through(in_port)
            _wait_all(server, "from-rsyslog-tls")
        _check(server, "from-rsyslog-tls")
