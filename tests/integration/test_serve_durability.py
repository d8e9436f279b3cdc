"""What Heron acknowledged survives SIGKILL: HEC with indexer acknowledgement, and HEC
answered once its request is in the receive log, end to end.

A client sends batches over HEC with ack and polls ``/services/collector/ack`` as a
Splunk forwarder does, keeping the events whose ack id came back true; another sends
without ack and keeps the events of every 200. The server is killed with SIGKILL while
requests are in flight, started again on the same data directory, and stopped; the
store must hold every acknowledged event, once.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson

from heron.receivelog import ReceiveLog, encode_submission
from heron.sources.file import RawChunk

from .serving import TOKEN, HeronProcess, free_port, query, serving

BATCH = 200


class AckingClient:
    """Sends batches with a channel, tracks ack ids, collects acknowledged markers."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.channel = str(uuid.uuid4())
        self.headers = {
            "Authorization": f"Splunk {TOKEN}",
            "X-Splunk-Request-Channel": self.channel,
        }
        self.pending: dict[int, list[str]] = {}
        self.acked: list[str] = []
        self.sent = 0
        self.stopped = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        client = httpx.Client(timeout=10)
        number = 0
        try:
            while not self.stopped.is_set():
                markers = [f"durable-{number}-{j}" for j in range(BATCH)]
                body = b"".join(
                    orjson.dumps({"event": {"marker": m, "n": number}}) for m in markers
                )
                answer = client.post(
                    self.url + "/services/collector/event", content=body, headers=self.headers
                )
                answer.raise_for_status()
                self.pending[answer.json()["ackId"]] = markers
                self.sent += BATCH
                number += 1
                if number % 3 == 0:
                    self.poll(client)
        except (httpx.HTTPError, OSError) as exc:
            self.error = exc  # the server died under us: expected
        finally:
            client.close()

    def poll(self, client: httpx.Client) -> None:
        answer = client.post(
            self.url + "/services/collector/ack",
            headers=self.headers,
            content=orjson.dumps({"acks": sorted(self.pending)}),
        )
        answer.raise_for_status()
        for key, done in answer.json()["acks"].items():
            if done:
                self.acked.extend(self.pending.pop(int(key)))


def _hec_config(source: dict[str, object]) -> dict[str, Any]:
    return {"tokens": [TOKEN], "detect": False, "http": {"port": free_port()}, "sources": [source]}


def test_acknowledged_events_survive_sigkill(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    config = _hec_config({"type": "hec", "ack": True})
    port = config["http"]["port"]
    server = HeronProcess(tmp_path, data_dir, config).start()
    client = AckingClient(f"http://127.0.0.1:{port}")
    sender = threading.Thread(target=client.run, daemon=True)
    try:
        sender.start()
        deadline = time.monotonic() + 60
        while len(client.acked) < 5 * BATCH and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(client.acked) >= 5 * BATCH, "no acknowledgements came back"
        # Kill mid-stream: the sender is still posting, some batches are unacknowledged.
        server.kill()
    finally:
        client.stopped.set()
        server.kill()
        sender.join(30)
    acked = set(client.acked)
    assert client.sent > len(acked)  # some were in flight when the server died

    _restart_and_check(tmp_path, data_dir, config, acked)


def _restart_and_check(
    tmp_path: Path, data_dir: Path, config: dict[str, Any], acknowledged: set[str]
) -> None:
    """Start the server again on the data directory (the store replays its WAL, the
    receive log what it holds), stop it, and find every acknowledged marker once."""
    again = HeronProcess(tmp_path, data_dir, config).start()
    try:
        port = config["http"]["port"]
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json()["status"] == "ok"
        assert again.terminate() == 0
    finally:
        again.kill()
    rows = query(data_dir, "SELECT json_extract_string(extra, '$.marker') AS m FROM events")
    stored = [r["m"] for r in rows]
    missing = acknowledged - set(stored)
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {sorted(missing)[:3]}"
    assert len(stored) == len(set(stored))  # nothing stored twice


class AnsweredClient:
    """Sends batches without ack; keeps the markers of every request answered 200."""

    def __init__(self, url: str, name: str) -> None:
        self.url = url
        self.name = name
        self.answered: list[str] = []
        self.sent = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        client = httpx.Client(timeout=10, headers={"Authorization": f"Splunk {TOKEN}"})
        number = 0
        try:
            while not self.stopped.is_set():
                markers = [f"{self.name}-{number}-{j}" for j in range(BATCH)]
                body = b"".join(orjson.dumps({"event": {"marker": m}}) for m in markers)
                self.sent += BATCH
                answer = client.post(self.url + "/services/collector/event", content=body)
                answer.raise_for_status()
                self.answered.extend(markers)
                number += 1
        except (httpx.HTTPError, OSError):
            pass  # the server died under us: expected
        finally:
            client.close()


def test_answered_events_survive_sigkill(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    config = _hec_config({"type": "hec"})
    port = config["http"]["port"]
    server = HeronProcess(tmp_path, data_dir, config).start()
    clients = [AnsweredClient(f"http://127.0.0.1:{port}", f"client{i}") for i in range(4)]
    senders = [threading.Thread(target=c.run, daemon=True) for c in clients]
    try:
        for sender in senders:
            sender.start()
        deadline = time.monotonic() + 60
        while sum(len(c.answered) for c in clients) < 20 * BATCH:
            assert time.monotonic() < deadline, "no answers came back"
            time.sleep(0.01)
        server.kill()
    finally:
        for client in clients:
            client.stopped.set()
        server.kill()
        for sender in senders:
            sender.join(30)
    answered = {m for c in clients for m in c.answered}
    assert sum(c.sent for c in clients) > len(answered)  # some were in flight

    _restart_and_check(tmp_path, data_dir, config, answered)


def _log_requests(directory: Path, requests: list[list[str]]) -> None:
    """What a server leaves when it is killed after answering, before committing."""

    async def main() -> None:
        log = ReceiveLog(directory)
        log.recover(0)
        log.start(asyncio.get_running_loop())
        try:
            for markers in requests:
                records = [orjson.dumps({"marker": m}).decode() for m in markers]
                where = [f"event {i}" for i in range(len(records))]
                chunk = RawChunk("hec", "json", records, where)
                await log.append(encode_submission("hec", "hec", [chunk]))[1]
        finally:
            log.close()

    asyncio.run(main())


def test_the_receive_log_is_stored_once_after_a_crash(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    directory = data_dir / "state" / "receive"
    requests = [[f"left-{n}-{i}" for i in range(50)] for n in range(4)]
    _log_requests(directory, requests)
    kept = tmp_path / "kept"
    shutil.copytree(directory, kept)

    def stored() -> list[str]:
        rows = server.rows("SELECT json_extract_string(extra, '$.marker') AS m FROM events")
        return sorted(r["m"] for r in rows)

    expected = sorted(m for markers in requests for m in markers)
    with serving(data_dir, sources=[{"type": "hec"}]) as server:
        server.wait_idle()
        assert stored() == expected
        assert server.metrics()["heron_receive_log_replayed_total"] == len(expected)
        assert server.source_count("hec", "parsed") == len(expected)
    # The files come back, as if the crash had come after the commit but before they
    # were deleted: the store's receipt says they are in, so nothing is stored twice.
    shutil.rmtree(directory)
    shutil.copytree(kept, directory)
    with serving(data_dir, sources=[{"type": "hec"}]) as server:
        server.wait_idle()
        assert stored() == expected
        assert server.metrics()["heron_receive_log_replayed_total"] == 0
    assert ReceiveLog(directory).segments == []
