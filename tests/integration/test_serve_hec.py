"""Splunk HEC against a running server: events, raw, ack, gzip, auth and bad input."""

from __future__ import annotations

import gzip
import time
import uuid
from pathlib import Path

import httpx
import orjson
import pytest

from .serving import AUTH, TOKEN, ServerThread, free_port, serving

SYSLOG = "<38>Oct 11 22:14:15 web01 sshd[4242]: Failed password for root from 10.1.2.3 port 22 ssh2"


@pytest.fixture
def hec(data_dir: Path) -> ServerThread:
    with serving(data_dir, sources=[{"type": "hec"}]) as server:
        yield server


@pytest.fixture
def hec_ack(data_dir: Path) -> ServerThread:
    with serving(data_dir, sources=[{"type": "hec", "ack": True}]) as server:
        yield server


def post(server: ServerThread, path: str, body: bytes, **headers: str) -> httpx.Response:
    return httpx.post(server.url + path, content=body, headers={**AUTH, **headers}, timeout=30)


def test_events_are_stored(hec: ServerThread) -> None:
    body = (
        b'{"event": "plain text from an app", "host": "app01", "time": 1700000000.25, '
        b'"sourcetype": "myapp", "fields": {"env": "prod"}}'
        + orjson.dumps(
            {
                "event": {"user": {"name": "alice"}, "action": "login"},
                "sourcetype": "_json",
                "time": "1700000001",
            }
        )
        + b"\n"
        + orjson.dumps({"event": SYSLOG, "sourcetype": "linux_secure"})
        + b"\n\n"
        + orjson.dumps({"event": "<13>Oct 11 22:14:15 db01 app: looks like syslog"})
    )
    answer = post(hec, "/services/collector/event", body)
    assert answer.status_code == 200
    assert answer.json() == {"text": "Success", "code": 0}
    # A 200 means durable (synced to the receive log); stored once the queue drains.
    hec.wait_idle()
    rows = hec.rows(
        'SELECT "host.name" AS host, "user.name" AS user, message, '
        '"@timestamp" AS ts, extra FROM events ORDER BY message'
    )
    assert len(rows) == 4
    by_message = {r["message"]: r for r in rows}
    plain = by_message["plain text from an app"]
    assert plain["host"] == "app01"
    assert plain["ts"] == 1_700_000_000_250_000_000  # ns
    assert orjson.loads(plain["extra"])["env"] == "prod"
    assert orjson.loads(plain["extra"])["splunk.sourcetype"] == "myapp"
    assert any(r["user"] == "alice" for r in rows)
    assert any(r["host"] == "web01" and "Failed password" in r["message"] for r in rows)
    assert any(r["host"] == "db01" for r in rows)


def test_without_the_receive_log_the_answer_follows_the_commit(data_dir: Path) -> None:
    with serving(data_dir, sources=[{"type": "hec"}], receive_log=False) as server:
        answer = post(server, "/services/collector/event", orjson.dumps({"event": "first"}))
        assert answer.status_code == 200
        # No waiting: without the log, a 200 means committed.
        assert server.rows("SELECT message FROM events") == [{"message": "first"}]
    assert not (data_dir / "state" / "receive").exists()


def test_a_request_the_receive_log_cannot_take_is_answered_after_commit(data_dir: Path) -> None:
    # The names the first two records' segments would get are taken by directories:
    # writing them fails as a full or broken disk would.
    directory = data_dir / "state" / "receive"
    for seq in (1, 2):
        (directory / f"{seq:020d}.log").mkdir(parents=True)
    with serving(data_dir, sources=[{"type": "hec"}]) as server:
        for n in range(2):
            answer = post(server, "/services/collector/event", orjson.dumps({"event": f"e{n}"}))
            assert answer.status_code == 200
            # Answered after the commit: stored now, without waiting.
            assert {"message": f"e{n}"} in server.rows("SELECT message FROM events")
        assert post(server, "/services/collector/event", b'{"event": "e2"}').status_code == 200
        server.wait_idle()
        metrics = server.metrics()
        assert metrics["heron_receive_log_failures_total"] == 2
        assert metrics["heron_receive_log_synced_total"] == 1
        assert len(server.rows("SELECT 1 FROM events")) == 3


def test_raw_endpoint_lines(hec: ServerThread) -> None:
    body = f"{SYSLOG}\r\nsecond line of plain text\n\n".encode()
    answer = post(hec, "/services/collector/raw?host=rawhost&sourcetype=syslog", body)
    assert answer.status_code == 200, answer.text
    plain = post(hec, "/services/collector/raw?host=rawhost", b"just words\n")
    hec.wait_idle()
    assert plain.status_code == 200
    rows = hec.rows('SELECT "host.name" AS host, message FROM events')
    assert {"web01", "rawhost"} <= {r["host"] for r in rows}
    assert any(r["message"] == "just words" for r in rows)
    assert hec.source_count("hec", "received") == 3


def test_gzip_and_bad_gzip(hec: ServerThread) -> None:
    body = b"".join(orjson.dumps({"event": f"zipped {i}"}) for i in range(100))
    answer = post(
        hec, "/services/collector/event", gzip.compress(body), **{"Content-Encoding": "gzip"}
    )
    assert answer.status_code == 200
    hec.wait_idle()
    assert len(hec.rows("SELECT 1 FROM events")) == 100
    bad = post(
        hec, "/services/collector/event", b"\x1f\x8bnot really gzip", **{"Content-Encoding": "gzip"}
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == 6 and "gzip" in bad.json()["text"]
    assert 'heron_source_rejected_total{source="hec",type="hec",reason="bad_gzip"}' in hec.metrics()


def test_tokens(hec: ServerThread) -> None:
    body = orjson.dumps({"event": "x"})
    for headers in (
        {},
        {"Authorization": "Splunk wrong-token-0123456789"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Basic {TOKEN}"},
    ):
        answer = httpx.post(hec.url + "/services/collector/event", content=body, headers=headers)
        assert answer.status_code == 401
        # No details: the same answer whether the token is missing or wrong.
        assert answer.json() == {"text": "Invalid authorization", "code": 3}
        assert TOKEN not in answer.text
    import base64

    basic = base64.b64encode(f"x:{TOKEN}".encode()).decode()
    ok = httpx.post(
        hec.url + "/services/collector/event",
        content=body,
        headers={"Authorization": f"Basic {basic}"},
    )
    assert ok.status_code == 200
    assert (
        hec.metrics()['heron_source_rejected_total{source="hec",type="hec",reason="unauthorized"}']
        == 4
    )


def test_oversized_requests_get_413(data_dir: Path) -> None:
    with serving(data_dir, sources=[{"type": "hec"}], http={"max_body_bytes": 4096}) as server:
        big = orjson.dumps({"event": "y" * 5000})
        assert post(server, "/services/collector/event", big).status_code == 413

        def chunks():  # no Content-Length: the limit applies while streaming
            for _ in range(10):
                yield b" " * 1000

        streamed = httpx.post(
            server.url + "/services/collector/event", content=chunks(), headers=AUTH
        )
        assert streamed.status_code == 413
        bomb = gzip.compress(orjson.dumps({"event": "z" * 100_000}))
        assert len(bomb) < 4096
        answer = post(server, "/services/collector/event", bomb, **{"Content-Encoding": "gzip"})
        assert answer.status_code == 413
        assert (
            server.metrics()[
                'heron_source_rejected_total{source="hec",type="hec",reason="too_large"}'
            ]
            == 3
        )
        assert (
            post(server, "/services/collector/event", orjson.dumps({"event": "ok"})).status_code
            == 200
        )


def test_bad_events_are_reported_and_the_rest_stored(hec: ServerThread) -> None:
    body = b"\n".join(
        [
            orjson.dumps({"event": "first good"}),
            b'{"event": "broken json',
            orjson.dumps({"event": "after the broken one"}),
            orjson.dumps({"no_event_here": 1}),
            orjson.dumps({"event": "   "}),
            b"[1, 2]",
            orjson.dumps({"event": "last good"}),
        ]
    )
    answer = post(hec, "/services/collector/event", body)
    assert answer.status_code == 400
    assert answer.json() == {"text": "Invalid data format", "code": 6, "invalid-event-number": 1}
    hec.wait_idle()
    messages = {r["message"] for r in hec.rows("SELECT message FROM events")}
    assert messages == {"first good", "after the broken one", "last good"}
    reasons = [r["reason"] for r in hec.rows("SELECT reason FROM dead_letters")]
    assert any("invalid JSON" in r for r in reasons)
    assert "event field is required" in reasons
    assert "event field cannot be blank" in reasons
    assert "a HEC event must be a JSON object" in reasons
    assert hec.source_count("hec", "failed") == 4
    assert hec.source_count("hec", "parsed") == 3
    missing = post(hec, "/services/collector/event", orjson.dumps({"fields": {}}))
    assert missing.json()["code"] == 12
    assert post(hec, "/services/collector/event", b"  ").json() == {"text": "No data", "code": 5}


def test_ack_reports_true_only_after_commit(hec_ack: ServerThread) -> None:
    channel = str(uuid.uuid4())
    headers = {"X-Splunk-Request-Channel": channel}
    no_channel = post(hec_ack, "/services/collector/event", orjson.dumps({"event": "x"}))
    assert no_channel.status_code == 400 and no_channel.json()["code"] == 10
    ack_ids = []
    for i in range(5):
        answer = post(
            hec_ack, "/services/collector/event", orjson.dumps({"event": f"acked {i}"}), **headers
        )
        assert answer.status_code == 200
        ack_ids.append(answer.json()["ackId"])
    assert ack_ids == [0, 1, 2, 3, 4]
    raw = httpx.post(
        f"{hec_ack.url}/services/collector/raw?channel={channel}",
        content=b"raw acked line\n",
        headers=AUTH,
    )
    ack_ids.append(raw.json()["ackId"])
    acked: set[int] = set()
    deadline = time.monotonic() + 20
    while len(acked) < len(ack_ids) and time.monotonic() < deadline:
        query = post(
            hec_ack,
            "/services/collector/ack",
            orjson.dumps({"acks": [i for i in ack_ids if i not in acked]}),
            **headers,
        )
        assert query.status_code == 200
        for key, done in query.json()["acks"].items():
            if done:
                # Once reported true, the event is in the store.
                assert hec_ack.rows("SELECT 1 FROM events WHERE message LIKE '%acked%'")
                acked.add(int(key))
        time.sleep(0.05)
    assert acked == set(ack_ids)
    # Ids reported true are forgotten (as Splunk does); unknown ids read false.
    again = post(hec_ack, "/services/collector/ack", orjson.dumps({"acks": [0, 99]}), **headers)
    assert again.json() == {"acks": {"0": False, "99": False}}
    assert len(hec_ack.rows("SELECT 1 FROM events")) == 6


def test_ack_endpoint_when_disabled_and_health(hec: ServerThread) -> None:
    answer = post(
        hec,
        "/services/collector/ack",
        orjson.dumps({"acks": [0]}),
        **{"X-Splunk-Request-Channel": "c"},
    )
    assert answer.json()["code"] == 14
    health = httpx.get(hec.url + "/services/collector/health")
    assert health.status_code == 200 and health.json()["code"] == 17


def test_own_port_and_https_listener(tmp_path: Path, data_dir: Path) -> None:
    from .test_serve_syslog import _make_certs

    folder = tmp_path / "certs"
    folder.mkdir()
    ca, cert, key = _make_certs(folder)
    hec_port = free_port()
    with serving(
        data_dir,
        sources=[{"type": "hec", "port": hec_port}],
        http={"tls": {"cert": str(cert), "key": str(key)}},
    ) as server:
        assert server.port("hec") == hec_port
        https = f"https://127.0.0.1:{server.port('http')}"
        import ssl

        with httpx.Client(verify=ssl.create_default_context(cafile=str(ca))) as client:
            assert client.get(https + "/healthz").json()["status"] == "ok"
            # HEC has a listener of its own: not served on the shared one.
            assert client.post(https + "/services/collector/event", headers=AUTH).status_code == 404
        own = f"http://127.0.0.1:{hec_port}"
        answer = httpx.post(
            own + "/services/collector/event",
            headers=AUTH,
            content=orjson.dumps({"event": "on its own port"}),
        )
        assert answer.status_code == 200
        assert httpx.get(own + "/healthz").status_code == 200
