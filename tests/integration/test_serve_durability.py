"""What Heron acknowledged survives SIGKILL: HEC with indexer acknowledgement, end to end.

A client sends batches over HEC with ack and polls ``/services/collector/ack`` as a
Splunk forwarder does, keeping the events whose ack id came back true. The server is
killed with SIGKILL while requests are in flight, started again on the same data
directory, and stopped; the store must hold every acknowledged event.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import httpx
import orjson

from .serving import TOKEN, HeronProcess, free_port, query

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


def test_acknowledged_events_survive_sigkill(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    config = {
        "tokens": [TOKEN],
        "detect": False,
        "http": {"port": port},
        "sources": [{"type": "hec", "ack": True}],
    }
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

    # A restart on the same data directory recovers the store (WAL replay) and serves.
    again = HeronProcess(tmp_path, data_dir, config).start()
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json()["status"] == "ok"
        assert again.terminate() == 0
    finally:
        again.kill()

    rows = query(data_dir, "SELECT json_extract_string(extra, '$.marker') AS m FROM events")
    stored = [r["m"] for r in rows]
    missing = acked - set(stored)
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {sorted(missing)[:3]}"
    assert len(stored) == len(set(stored))  # nothing stored twice
