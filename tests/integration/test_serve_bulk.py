"""Elasticsearch ``_bulk`` against a running server: raw NDJSON and the official client."""

from __future__ import annotations

import base64
import gzip
from pathlib import Path

import httpx
import orjson
import pytest

from .serving import TOKEN, ServerThread, serving

BEARER = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-ndjson"}


@pytest.fixture
def bulk(data_dir: Path) -> ServerThread:
    with serving(data_dir, sources=[{"type": "bulk"}]) as server:
        yield server


def ndjson(*lines: object) -> bytes:
    return b"".join(
        (line if isinstance(line, bytes) else orjson.dumps(line)) + b"\n" for line in lines
    )


def test_items_answer_like_elasticsearch(bulk: ServerThread) -> None:
    body = ndjson(
        {"index": {"_index": "logs-a", "_id": "doc-1"}},
        {"@timestamp": "2024-05-01T10:00:00Z", "message": "one", "user": {"name": "bob"}},
        {"create": {}},
        {"message": "two", "source": {"ip": "10.0.0.9"}},
        {"index": {"_index": "logs-a"}},
        b"this line is not JSON",
        {"create": {"_index": "logs-b"}},
        {"message": "three"},
        {"delete": {"_index": "logs-a", "_id": "doc-1"}},
        {"update": {"_index": "logs-a", "_id": "doc-1"}},
        {"doc": {"message": "changed"}},
    )
    answer = httpx.post(bulk.url + "/default-index/_bulk", content=body, headers=BEARER)
    assert answer.status_code == 200
    assert answer.headers["x-elastic-product"] == "Elasticsearch"
    reply = answer.json()
    assert reply["errors"] is True and isinstance(reply["took"], int)
    items = reply["items"]
    assert [next(iter(i)) for i in items] == [
        "index",
        "create",
        "index",
        "create",
        "delete",
        "update",
    ]
    first, second, bad, third, delete, update = (next(iter(i.values())) for i in items)
    assert first["_id"] == "doc-1" and first["_index"] == "logs-a"
    assert first["status"] == 201 and first["result"] == "created"
    assert second["_index"] == "default-index" and second["status"] == 201
    assert len(second["_id"]) > 0
    assert bad["status"] == 400 and bad["error"]["type"] == "document_parsing_exception"
    assert third["_index"] == "logs-b" and third["status"] == 201
    assert delete["status"] == 400 and update["status"] == 400
    rows = bulk.rows(
        'SELECT message, "user.name" AS u, "source.ip" AS ip, "event.id" AS id '
        "FROM events ORDER BY message"
    )
    assert [r["message"] for r in rows] == ["one", "three", "two"]
    assert rows[0]["u"] == "bob" and rows[2]["ip"] == "10.0.0.9"
    # Without an _id from the client, the reply names the stored event's id.
    assert second["_id"] == rows[2]["id"]
    letters = bulk.rows("SELECT reason, raw, location FROM dead_letters")
    assert len(letters) == 1 and letters[0]["raw"] == "this line is not JSON"
    assert letters[0]["location"] == "line 6"
    assert bulk.source_count("bulk", "failed") == 1
    assert bulk.source_count("bulk", "parsed") == 3


def test_malformed_action_line_fails_the_request(bulk: ServerThread) -> None:
    body = ndjson({"index": {}}, {"message": "ok"}, b"not an action", {"message": "x"})
    answer = httpx.post(bulk.url + "/_bulk", content=body, headers=BEARER)
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "illegal_argument_exception"
    assert "line [3]" in answer.json()["error"]["reason"]
    assert bulk.rows("SELECT count(*) AS n FROM events")[0]["n"] == 0


def test_credentials_and_gzip(bulk: ServerThread) -> None:
    body = ndjson({"index": {}}, {"message": "hello"})
    api_key = base64.b64encode(f"key-id:{TOKEN}".encode()).decode()
    basic = base64.b64encode(f"elastic:{TOKEN}".encode()).decode()
    for auth in (f"ApiKey {api_key}", f"ApiKey {TOKEN}", f"Basic {basic}", f"Bearer {TOKEN}"):
        answer = httpx.post(
            bulk.url + "/_bulk",
            content=gzip.compress(body),
            headers={"Authorization": auth, "Content-Encoding": "gzip"},
        )
        assert answer.status_code == 200 and answer.json()["errors"] is False
    for auth in (
        "",
        "ApiKey nope",
        f"Splunk {TOKEN}",
        "Basic " + base64.b64encode(b"x:y").decode(),
    ):
        answer = httpx.post(bulk.url + "/_bulk", content=body, headers={"Authorization": auth})
        assert answer.status_code == 401
        assert answer.json()["error"]["type"] == "security_exception"
    bad = httpx.post(
        bulk.url + "/_bulk",
        content=b"\x1f\x8b\x08garbage",
        headers={**BEARER, "Content-Encoding": "gzip"},
    )
    assert bad.status_code == 400
    assert len(bulk.rows("SELECT 1 FROM events")) == 4


def test_oversized_bulk_gets_413(data_dir: Path) -> None:
    with serving(data_dir, sources=[{"type": "bulk"}], http={"max_body_bytes": 2048}) as server:
        body = ndjson({"index": {}}, {"message": "m" * 3000})
        answer = httpx.post(server.url + "/_bulk", content=body, headers=BEARER)
        assert answer.status_code == 413
        assert answer.json()["error"]["type"] == "content_too_long_exception"


def test_official_python_client_bulk_helper(bulk: ServerThread) -> None:
    from elasticsearch import Elasticsearch, helpers

    client = Elasticsearch(bulk.url, api_key=TOKEN, request_timeout=30)
    info = client.info()
    assert info["version"]["number"].startswith("8.")
    actions = (
        {
            "_index": "winlogbeat-8",
            "_source": {
                "@timestamp": "2024-05-01T10:00:00Z",
                "event": {"code": "4625"},
                "message": f"logon failure {i}",
            },
        }
        for i in range(1500)
    )
    ok, errors = helpers.bulk(client, actions, chunk_size=500)
    assert ok == 1500 and errors == []
    client.close()
    rows = bulk.rows(
        'SELECT count(*) AS n, count(DISTINCT "event.id") AS ids FROM events '
        "WHERE \"event.code\" = '4625'"
    )
    assert rows == [{"n": 1500, "ids": 1500}]
