"""The REST API over real HTTP: events, hunts, alerts, suppressions, rules, saved searches."""

from __future__ import annotations

import time
from pathlib import Path

import orjson

from heron.alerts import AlertStore
from heron.audit import AuditLog
from heron.detect.base import Detection
from heron.store.duckdb import DuckDBStore

from .api_server import api_server
from .serving import TOKEN

NS = 1_000_000_000
CANARY_RULE = b"""title: API canary
id: 7c4b0a52-1111-4222-8333-444455556666
status: test
logsource: {product: apitest}
detection:
  selection: {canary: live-reload}
  condition: selection
level: high
"""


def _ingest(url: str, *events: dict[str, object]) -> None:
    import httpx

    body = b"".join(orjson.dumps({"event": e}) for e in events)
    answer = httpx.post(
        url + "/services/collector/event",
        content=body,
        headers={"Authorization": f"Splunk {TOKEN}"},
    )
    assert answer.status_code == 200, answer.text


def test_events_and_hunts(tmp_path: Path) -> None:
    with api_server(tmp_path) as server:
        _ingest(
            server.url,
            {"message": "alpha login failed", "user.name": "alice", "host.name": "web1"},
            {"message": "beta login ok", "user.name": "bob", "host.name": "web2"},
        )
        client = server.client("read")
        found = client.get("/api/events", params={"user.name": "alice"}).json()
        assert found["count"] == 1 and found["events"][0]["host.name"] == "web1"
        text = client.get("/api/events", params={"q": "beta", "start": "1h"}).json()
        assert [e["user.name"] for e in text["events"]] == ["bob"]
        wild = client.get("/api/events", params={"host.name": "web*", "limit": 1}).json()
        assert wild["count"] == 1
        hunt = client.post(
            "/api/hunt", json={"query": "events | summarize n=count() by user.name | sort by n"}
        )
        assert hunt.status_code == 200 and len(hunt.json()["rows"]) == 2
        bad = client.post("/api/hunt", json={"query": "events | wher x"})
        assert bad.status_code == 400 and bad.json()["query_error"]["line"] == 1
        bad_time = client.get("/api/events", params={"start": "yesterday-ish"})
        assert bad_time.status_code == 422 and "start" in bad_time.json()["error"]
        queries = [r for r in AuditLog(tmp_path).records() if r.action == "query"]
        assert [q.details["kind"] for q in queries] == ["search"] * 3 + ["hunt"] * 2
        assert queries[0].actor == "token:read-token"


def test_export_downloads_rows_neutralizes_formulas_and_is_audited(tmp_path: Path) -> None:
    import csv
    import io

    with api_server(tmp_path) as server:
        _ingest(
            server.url,
            # A user name built to run in a spreadsheet that opens the export.
            {"message": "login failed", "user.name": '=HYPERLINK("http://x.test","y")'},
            {"message": "login ok", "user.name": "bob"},
        )
        client = server.client("read")
        query = "events | project user.name, message | sort by user.name asc"
        answer = client.get("/api/export", params={"query": query})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/csv")
        disposition = answer.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="heron-export-')
        assert answer.headers["x-heron-truncated"] == "false"
        rows = list(csv.reader(io.StringIO(answer.text)))
        assert rows[0] == ["user.name", "message"]
        assert rows[1] == ['\'=HYPERLINK("http://x.test","y")', "login failed"]
        assert rows[2] == ["bob", "login ok"]
        lines = client.get("/api/export", params={"query": query, "format": "ndjson", "limit": 1})
        assert lines.headers["x-heron-truncated"] == "true"
        assert [orjson.loads(x)["user.name"] for x in lines.text.splitlines()] == [
            '=HYPERLINK("http://x.test","y")'
        ]
        bad = client.get("/api/export", params={"query": "events | wher x"})
        assert bad.status_code == 400 and bad.json()["query_error"]["line"] == 1
        exports = [r for r in AuditLog(tmp_path).records() if r.action == "export"]
        assert [(e.details["format"], e.details["rows"]) for e in exports] == [
            ("csv", 2),
            ("ndjson", 1),
        ]
        assert exports[0].actor == "token:read-token"


def test_alert_triage_flow_with_history_and_audit(tmp_path: Path) -> None:
    with api_server(tmp_path) as server:
        store = AlertStore(server.node.store)
        now = time.time_ns()
        ids = store.add(
            [
                Detection(
                    "r1",
                    "Brute force",
                    "high",
                    now - i * NS,
                    (f"e{i}",),
                    (),
                    {"user.name": f"u{i}"},
                )
                for i in range(3)
            ]
        ).alert_ids
        analyst = server.client("analyst")
        page = analyst.get("/api/alerts", params={"level": "high", "limit": 2}).json()
        assert page["total"] == 3 and len(page["alerts"]) == 2
        one = analyst.get("/api/alerts", params={"entity": "user.name:u1"}).json()
        assert [a["alert.id"] for a in one["alerts"]] == [ids[1]]
        closing = analyst.patch(f"/api/alerts/{ids[0]}", json={"status": "closed"})
        assert closing.status_code == 422 and "disposition" in closing.json()["error"]
        closed = analyst.patch(
            f"/api/alerts/{ids[0]}",
            json={"status": "closed", "disposition": "benign", "comment": "test box"},
        )
        assert closed.status_code == 200 and closed.json()["status"] == "closed"
        detail = analyst.get(f"/api/alerts/{ids[0]}").json()
        assert detail["history"][0]["comment"] == "test box"
        assert detail["history"][0]["actor"] == "token:analyst-token"
        bulk = analyst.post(
            "/api/alerts/bulk", json={"ids": ids[1:], "status": "acknowledged", "assignee": "me"}
        )
        assert [a["status"] for a in bulk.json()["alerts"]] == ["acknowledged"] * 2
        missing = analyst.post("/api/alerts/bulk", json={"ids": ["nope"], "comment": "x"})
        assert missing.status_code == 404
        assert analyst.get("/api/alerts/nope").status_code == 404
        added = analyst.post(
            "/api/suppressions",
            json={"field": "user.name", "value": "svc", "reason": "scanner", "expires_in": "7d"},
        )
        assert added.status_code == 201
        sid = added.json()["suppression.id"]
        listed = analyst.get("/api/suppressions").json()["suppressions"]
        assert [s["suppression.id"] for s in listed] == [sid]
        assert analyst.delete(f"/api/suppressions/{sid}").status_code == 200
        assert analyst.get("/api/entities", params={"kind": "user"}).status_code == 200
        actions = [r.action for r in AuditLog(tmp_path).records()]
        assert actions.count("alert.update") == 2  # the refused close is not an action
        assert "suppression.add" in actions and "suppression.remove" in actions


def test_rules_upload_enable_disable_apply_to_the_running_engine(tmp_path: Path) -> None:
    with api_server(tmp_path, detect=True) as server:
        admin = server.client("admin")
        rules = admin.get("/api/rules").json()["rules"]
        assert rules and all(r["enabled"] for r in rules)
        engine = server.node.detector
        event = {
            "event.module": "apitest",
            "canary": "live-reload",
            "@timestamp": 1,
            "event.id": "x",
        }
        assert engine.detect([event]) == []
        upload = admin.post(
            "/api/rules", files={"file": ("canary.yml", CANARY_RULE, "application/yaml")}
        )
        assert upload.status_code == 201, upload.text
        assert upload.json()["live"] is True
        assert (tmp_path / "rules" / "canary.yml").read_bytes() == CANARY_RULE
        assert [d.rule_name for d in engine.detect([event])] == ["API canary"]
        rule_id = "7c4b0a52-1111-4222-8333-444455556666"
        assert admin.post(f"/api/rules/{rule_id}/disable").json()["enabled"] is False
        assert engine.detect([event]) == []
        listed = {r["id"]: r for r in admin.get("/api/rules").json()["rules"]}
        assert listed[rule_id]["enabled"] is False and listed[rule_id]["uploaded"] is True
        assert admin.post(f"/api/rules/{rule_id}/enable").json()["enabled"] is True
        assert len(engine.detect([event])) == 1
        again = admin.post(
            "/api/rules", files={"file": ("other.yml", CANARY_RULE, "application/yaml")}
        )
        assert again.status_code == 409
        broken = admin.post(
            "/api/rules",
            files={"file": ("broken.yml", b"title: x\ndetection: {}\n", "application/yaml")},
        )
        assert broken.status_code == 422 and broken.json()["error"].startswith("broken.yml")
        assert not (tmp_path / "rules" / "broken.yml").exists()
        actions = [r.action for r in AuditLog(tmp_path).records()]
        assert actions.count("rule.upload") == 3
        assert "rule.disable" in actions and "rule.enable" in actions
    # The state survives a restart: the uploaded rule is loaded, the disabled one stays off.
    with api_server(tmp_path, detect=True, users=False) as server:
        assert len(server.node.detector.detect([event])) == 1
    # `heron ingest` on the same data dir detects with the uploaded rule, in a worker
    # process too, and not with a rule switched off.
    from click.testing import CliRunner

    from heron.cli.main import main
    from heron.detect.rulestate import rules_state_path

    lines = tmp_path / "canary.ndjson"
    lines.write_bytes(
        orjson.dumps({"@timestamp": "2026-01-02T03:04:05Z", "event.module": "apitest",
                      "canary": "live-reload", "user.name": "carol"}) + b"\n"
    )  # fmt: skip

    def ingest_and_count() -> int:
        args = ["ingest", "--workers", "1", "--data-dir", str(tmp_path), str(lines)]
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        with DuckDBStore(tmp_path) as store:
            return sum(a.count for a in AlertStore(store).list(rule_id=rule_id))

    assert ingest_and_count() == 1
    rules_state_path(tmp_path).write_bytes(orjson.dumps({"disabled": [rule_id]}))
    assert ingest_and_count() == 1  # the same event again, with the rule off: no repeat
    rules_state_path(tmp_path).write_bytes(orjson.dumps({"disabled": []}))
    assert ingest_and_count() == 2  # on again: the repeat groups into the alert


CANARY_TWICE = b"""title: API canary twice
id: 8d5c1b63-2222-4333-8444-555566667777
correlation:
  type: event_count
  rules: [7c4b0a52-1111-4222-8333-444455556666]
  group-by: [user.name]
  timespan: 10m
  condition: {gte: 2}
level: critical
"""
BROKEN_CORRELATION = b"""title: Counts a rule nobody wrote
id: 9e6d2c74-3333-4444-8555-666677778888
correlation:
  type: event_count
  rules: [no-such-rule]
  group-by: [user.name]
  timespan: 10m
  condition: {gte: 2}
"""


def test_an_uploaded_correlation_runs_from_the_next_batch(tmp_path: Path) -> None:
    with api_server(tmp_path, detect=True) as server:
        admin = server.client("admin")
        engine = server.node.detector
        files = {"file": ("canary.yml", CANARY_RULE, "application/yaml")}
        assert admin.post("/api/rules", files=files).status_code == 201

        def canary(i: int) -> dict[str, object]:
            return {"event.module": "apitest", "canary": "live-reload", "user.name": "dora",
                    "@timestamp": 1_700_000_000 * NS + i * NS, "event.id": f"c{i}"}  # fmt: skip

        # Before the correlation exists, repeats are only single-rule detections.
        assert {d.rule_name for d in engine.detect([canary(1), canary(2)])} == {"API canary"}
        files = {"file": ("twice.yml", CANARY_TWICE, "application/yaml")}
        upload = admin.post("/api/rules", files=files)
        assert upload.status_code == 201 and upload.json()["live"] is True
        found = engine.detect([canary(3), canary(4)]) + engine.flush()
        assert "API canary twice" in {d.rule_name for d in found}
        broken = admin.post(
            "/api/rules", files={"file": ("broken.yml", BROKEN_CORRELATION, "application/yaml")}
        )
        assert broken.status_code == 422, broken.text
        assert not (tmp_path / "rules" / "broken.yml").exists()
    # The next start loads both, and refused nothing that was kept.
    with api_server(tmp_path, detect=True, users=False) as server:
        titles = {r.title for r in server.node.detector.correlation.rules}
        assert "API canary twice" in titles


def test_placeholder_values_apply_to_the_running_engine(tmp_path: Path) -> None:
    expanding = CANARY_RULE.replace(b"{canary: live-reload}", b"{canary|expand: '%canaries%'}")
    with api_server(tmp_path, detect=True) as server:
        admin = server.client("admin")
        engine = server.node.detector
        event = {"event.module": "apitest", "canary": "blue", "@timestamp": 1, "event.id": "x"}
        refused = admin.post("/api/rules", files={"file": ("canary.yml", expanding, "text/yaml")})
        assert refused.status_code == 422 and "%canaries% has no values" in refused.text
        put = admin.put("/api/rules/placeholders/canaries", json={"values": ["red", "blu*"]})
        assert put.status_code == 200 and put.json() == {
            "name": "canaries",
            "values": ["red", "blu*"],
            "live": True,
        }
        loaded = admin.post("/api/rules", files={"file": ("canary.yml", expanding, "text/yaml")})
        assert loaded.status_code == 201, loaded.text
        assert [d.rule_name for d in engine.detect([event])] == ["API canary"]
        admin.put("/api/rules/placeholders/canaries", json={"values": ["red"]})
        assert engine.detect([event]) == []  # the running engine expands the new values
        listed = server.client("analyst").get("/api/rules/placeholders").json()
        assert listed == {"placeholders": {"canaries": ["red"]}}
        # An enabled rule expands it: removing it would keep the next start from loading.
        gone = admin.delete("/api/rules/placeholders/canaries")
        assert gone.status_code == 409 and "7c4b0a52" in gone.text
        assert admin.get("/api/rules/placeholders").json()["placeholders"] == {"canaries": ["red"]}
        admin.post("/api/rules/7c4b0a52-1111-4222-8333-444455556666/disable")
        assert admin.delete("/api/rules/placeholders/canaries").status_code == 200
        assert admin.delete("/api/rules/placeholders/canaries").status_code == 404
        # The rule no longer loads: it is still listed, off, with the reason.
        rows = {r["id"]: r for r in admin.get("/api/rules").json()["rules"]}
        failing = rows["7c4b0a52-1111-4222-8333-444455556666"]
        assert failing["enabled"] is False and failing["file"] == "canary.yml"
        assert "%canaries% has no values" in failing["error"]
        assert all(r["error"] is None for k, r in rows.items() if k != failing["id"])
        ui, _ = server.login("admin-user")
        page = ui.get("/ui/rules").text
        assert "does not load: " in page and "canary.yml" in page
        refused = admin.post(f"/api/rules/{failing['id']}/enable")
        assert refused.status_code == 409 and "%canaries% has no values" in refused.text
        assert admin.put("/api/rules/placeholders/canaries", json={"values": ["x"]}).is_success
        assert admin.post(f"/api/rules/{failing['id']}/enable").status_code == 200
        bad = admin.put("/api/rules/placeholders/%25x%25", json={"values": ["y"]})
        assert bad.status_code == 400
        assert admin.put("/api/rules/placeholders/x", json={"values": []}).status_code == 422
        actions = [r.action for r in AuditLog(tmp_path).records()]
        assert actions.count("rule.placeholder.set") == 3
        assert actions.count("rule.placeholder.unset") == 1


def test_rule_file_names_cannot_traverse(tmp_path: Path) -> None:
    with api_server(tmp_path) as server:
        admin = server.client("admin")
        for name in (
            "../evil.yml",
            "../../etc/cron.d/x.yml",
            "/tmp/abs.yml",
            "..yml",
            "sub/dir.yml",
            "x.yml\x00.txt",
            ".hidden.yml",
            "a..b.yml",
            "rule.txt",
            "..\\win.yml",
        ):
            answer = admin.post("/api/rules", files={"file": (name, CANARY_RULE, "text/yaml")})
            assert answer.status_code == 400, (name, answer.status_code)
        assert not (tmp_path / "evil.yml").exists() and not Path("/tmp/abs.yml").exists()
        assert not any((tmp_path / "rules").glob("*")) if (tmp_path / "rules").exists() else True
        for path in ("/api/searches/..%2F..%2Fetc", "/api/users/..%2F..", "/api/tokens/..%2F"):
            assert admin.delete(path).status_code in (307, 400, 404)  # never a 2xx


def test_saved_searches(tmp_path: Path) -> None:
    with api_server(tmp_path) as server:
        _ingest(server.url, {"message": "one", "user.name": "alice"})
        analyst = server.client("analyst")
        made = analyst.post(
            "/api/searches", json={"name": "alices", "query": "events | where user.name == 'alice'"}
        )
        assert made.status_code == 201
        assert [s["name"] for s in analyst.get("/api/searches").json()["searches"]] == ["alices"]
        run = server.client("read").post("/api/searches/alices/run")
        assert run.status_code == 200 and len(run.json()["rows"]) == 1
        bad = analyst.post("/api/searches", json={"name": "x", "query": "events | nonsense"})
        assert bad.status_code == 400
        bad_name = analyst.post("/api/searches", json={"name": "../x", "query": "events"})
        assert bad_name.status_code == 400
        assert analyst.delete("/api/searches/alices").status_code == 200
        assert analyst.delete("/api/searches/alices").status_code == 404
        actions = [r.action for r in AuditLog(tmp_path).records()]
        assert "search.save" in actions and "search.delete" in actions


def test_users_admin(tmp_path: Path) -> None:
    with api_server(tmp_path) as server:
        admin = server.client("admin")
        made = admin.post(
            "/api/users", json={"name": "carol", "password": "long enough", "role": "read"}
        )
        assert made.status_code == 201
        assert (
            admin.post("/api/users", json={"name": "carol", "password": "long enough"}).status_code
            == 409
        )
        assert admin.patch("/api/users/carol", json={"role": "analyst"}).json()["role"] == "analyst"
        names = [u["name"] for u in admin.get("/api/users").json()["users"]]
        assert "carol" in names and all(
            "hash" not in u for u in admin.get("/api/users").json()["users"]
        )
        assert admin.delete("/api/users/carol").status_code == 200
        assert admin.delete("/api/users/carol").status_code == 404
        weak = admin.post("/api/users", json={"name": "dan", "password": "short"})
        assert weak.status_code == 400 and "password" in weak.json()["error"]
