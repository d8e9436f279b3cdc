"""The authorization matrix: every route of the app x every role → 401, 403 or allowed.

Routes are enumerated from the running app, so a route added without an entry here
fails ``test_every_route_has_a_matrix_entry``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.routing import Mount

from heron.alerts import AlertStore
from heron.api.app import app_routes, create_app
from heron.config import ServeConfig
from heron.detect.base import Detection
from heron.runtime import open_node

from .api_server import PASSWORD, ROLES, ApiServer, api_server
from .serving import TOKEN

RULE = b"""title: Matrix test rule
id: 5d1f2c7e-0000-4000-8000-00000000aaaa
status: test
logsource: {product: windows, service: security}
detection:
  selection: {EventID: 4625}
  condition: selection
level: low
"""


#: Who may call a route: a scope, "public" (anyone), "authenticated" (any principal),
#: "open" (health and docs: no credentials at all), "ingest-token" (ingest routes).
@dataclass(frozen=True)
class Entry:
    need: str
    path: str = ""  # concrete path when the route has parameters
    json: Any = None
    files: dict[str, Any] | None = None
    params: dict[str, str] = field(default_factory=dict)
    public_status: int | None = None  # the answer of a public route, whoever asks


MATRIX: dict[tuple[str, str], Entry] = {
    ("GET", "/openapi.json"): Entry("open"),
    ("GET", "/healthz"): Entry("open"),
    ("GET", "/metrics"): Entry("open"),
    ("GET", "/api/events"): Entry("read", params={"host.name": "x"}),
    ("POST", "/api/hunt"): Entry("read", json={"query": "events | take 1"}),
    ("GET", "/api/fields"): Entry("read"),
    ("POST", "/api/hunt/explain"): Entry("read", json={"query": "events | take 1"}),
    ("POST", "/api/ingest"): Entry("ingest", json={"message": "matrix"}),
    ("GET", "/api/stats"): Entry("read"),
    ("GET", "/api/deadletters"): Entry("read"),
    ("POST", "/api/retention"): Entry("admin", json={"keep": "36500d"}),
    ("GET", "/api/intel"): Entry("read"),
    ("GET", "/api/assets"): Entry("read"),
    ("POST", "/api/assets"): Entry(
        "admin", json={"kind": "hosts", "records": [{"name": "matrix01", "ip": "192.0.2.1"}]}
    ),
    ("POST", "/api/rules/backtest"): Entry(
        "read", json={"rules": [{"name": "m.yml", "text": RULE.decode()}]}
    ),
    ("POST", "/api/intel/expire"): Entry("admin"),
    # Only callers on the control socket hold "local": every role over TCP is refused.
    ("POST", "/api/intel/load"): Entry("local", json={"not": "an arrow stream"}),
    ("GET", "/api/intel/feeds"): Entry("read"),
    ("POST", "/api/simulate/markers"): Entry("read", json={"markers": ["matrix"]}),
    ("POST", "/api/intel/feeds/{name}/runs"): Entry(
        "local", path="/api/intel/feeds/matrix/runs", json={"ran_at": "2026-01-01", "ok": True}
    ),
    ("POST", "/api/ingest/files"): Entry("local", json={"files": [{"path": "/x", "name": "x"}]}),
    ("GET", "/api/export"): Entry("read", params={"query": "events | take 1"}),
    ("GET", "/api/alerts"): Entry("read"),
    ("GET", "/api/alerts/{alert_id}"): Entry("read", path="/api/alerts/ALERT"),
    ("PATCH", "/api/alerts/{alert_id}"): Entry(
        "analyst", path="/api/alerts/ALERT", json={"status": "acknowledged"}
    ),
    ("POST", "/api/alerts/bulk"): Entry(
        "analyst", json={"ids": ["ALERT"], "comment": "looked at it"}
    ),
    ("GET", "/api/suppressions"): Entry("read"),
    ("POST", "/api/suppressions"): Entry(
        "analyst", json={"field": "user.name", "value": "svc", "reason": "noise"}
    ),
    ("DELETE", "/api/suppressions/{suppression_id}"): Entry(
        "analyst", path="/api/suppressions/nosuch"
    ),
    ("GET", "/api/entities"): Entry("read"),
    ("GET", "/api/rules"): Entry("read"),
    ("POST", "/api/rules/{rule_id}/enable"): Entry("admin", path="/api/rules/nosuch/enable"),
    ("POST", "/api/rules/{rule_id}/disable"): Entry("admin", path="/api/rules/nosuch/disable"),
    ("POST", "/api/rules"): Entry("admin", files={"file": ("matrix.yml", RULE, "text/yaml")}),
    ("GET", "/api/rules/placeholders"): Entry("read"),
    ("PUT", "/api/rules/placeholders/{name}"): Entry(
        "admin", path="/api/rules/placeholders/matrix", json={"values": ["x"]}
    ),
    ("DELETE", "/api/rules/placeholders/{name}"): Entry(
        "admin", path="/api/rules/placeholders/nosuch"
    ),
    ("GET", "/api/searches"): Entry("read"),
    ("POST", "/api/searches"): Entry("analyst", json={"name": "s1", "query": "events | take 1"}),
    ("DELETE", "/api/searches/{name}"): Entry("analyst", path="/api/searches/nosuch"),
    ("POST", "/api/searches/{name}/run"): Entry("read", path="/api/searches/nosuch/run"),
    ("POST", "/api/login"): Entry(
        "public", json={"name": "read-user", "password": PASSWORD}, public_status=200
    ),
    ("POST", "/api/setup"): Entry(
        "public", json={"token": "guess", "name": "x", "password": PASSWORD}, public_status=403
    ),
    ("POST", "/api/logout"): Entry("authenticated"),
    ("GET", "/api/me"): Entry("authenticated"),
    ("GET", "/api/docs"): Entry("authenticated"),
    ("GET", "/api/users"): Entry("admin"),
    ("POST", "/api/users"): Entry("admin", json={"name": "victim", "password": PASSWORD}),
    ("PATCH", "/api/users/{name}"): Entry(
        "admin", path="/api/users/victim", json={"role": "analyst"}
    ),
    ("DELETE", "/api/users/{name}"): Entry("admin", path="/api/users/victim"),
    ("GET", "/api/tokens"): Entry("admin"),
    ("POST", "/api/tokens"): Entry("admin", json={"name": "victim-token", "scopes": ["read"]}),
    ("DELETE", "/api/tokens/{name}"): Entry("admin", path="/api/tokens/victim-token"),
    # Ingest routes keep their own check: configured ingest tokens or the ingest scope.
    **{
        ("POST", p): Entry("ingest-token", json={"event": "matrix"})
        for p in (
            "/services/collector",
            "/services/collector/event",
            "/services/collector/event/1.0",
            "/services/collector/raw",
            "/services/collector/raw/1.0",
            "/services/collector/ack",
        )
    },
    ("GET", "/services/collector/health"): Entry("open"),
    ("GET", "/services/collector/health/1.0"): Entry("open"),
    ("POST", "/_bulk"): Entry("ingest-token"),
    ("PUT", "/_bulk"): Entry("ingest-token"),
    ("POST", "/{index}/_bulk"): Entry("ingest-token", path="/logs/_bulk"),
    ("PUT", "/{index}/_bulk"): Entry("ingest-token", path="/logs/_bulk"),
    ("GET", "/"): Entry("ingest-token"),
    ("GET", "/_cluster/health"): Entry("ingest-token"),
    ("GET", "/_license"): Entry("ingest-token"),
    ("GET", "/_xpack"): Entry("ingest-token"),
    ("POST", "/v1/logs"): Entry("ingest-token", json={"resourceLogs": []}),
    ("POST", "/v1/traces"): Entry("ingest-token", json={"resourceSpans": []}),
}

#: The web UI (``heron.web``): anonymous visitors get the login page or a redirect to it.
UI_PUBLIC = {"/ui/login", "/ui/setup", "/ui/static/{name:path}"}


def _key(method: str, path: str) -> tuple[str, str]:
    return method, path


def _app_keys(app: Any) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    api: set[tuple[str, str]] = set()
    ui: set[tuple[str, str]] = set()
    for path, methods, route in app_routes(app):
        if isinstance(route, Mount):
            for sub in route.routes:
                for method in getattr(sub, "methods", None) or ():
                    if method != "HEAD":
                        ui.add((method, path.rstrip("/") + sub.path))
            continue
        for method in methods:
            if method == "HEAD":
                continue
            if path.startswith("/ui"):
                ui.add((method, path))
            else:
                api.add((method, path))
    return api, ui


def test_every_route_has_a_matrix_entry(tmp_path: Path) -> None:
    with open_node(tmp_path, detect=False) as node:
        app = create_app(node, ServeConfig.default(), tokens=[TOKEN])
        api, _ = _app_keys(app)
    missing = sorted(api - set(MATRIX))
    stale = sorted(set(MATRIX) - api)
    assert not missing, f"routes without an authorization matrix entry: {missing}"
    assert not stale, f"matrix entries for routes that do not exist: {stale}"


def _expected(entry: Entry, role: str | None) -> str:
    if entry.need == "open":
        return "allowed"
    if entry.need == "public":
        return "public"
    if entry.need == "ingest-token":
        return "allowed" if role in ("ingest", "admin") else "unauthorized"
    if role is None:
        return "unauthorized"
    if entry.need == "authenticated":
        return "allowed"
    if entry.need == "local":
        return "forbidden"
    scopes = {"ingest": {"ingest"}, "read": {"read"}, "analyst": {"read", "analyst"}}
    granted = scopes.get(role, {"ingest", "read", "analyst", "admin"})
    return "allowed" if entry.need in granted else "forbidden"


def _call(server: ApiServer, method: str, entry: Entry, path: str, role: str | None) -> Any:
    client = server.client(role)
    kwargs: dict[str, Any] = {"params": entry.params}
    if entry.files is not None:
        kwargs["files"] = entry.files
    elif entry.json is not None:
        kwargs["content"] = orjson.dumps(entry.json)
        kwargs["headers"] = {"Content-Type": "application/json"}
    try:
        return client.request(method, path, **kwargs)
    finally:
        client.cookies.clear()  # a login answer's cookie must not make "nobody" somebody


def test_authorization_matrix(tmp_path: Path) -> None:
    with api_server(tmp_path) as server:
        alert_store = AlertStore(server.node.store)
        added = alert_store.add(
            [Detection("matrix-rule", "Matrix rule", "high", 1_700_000_000 * 10**9, ("e1",))]
        )
        alert_id = added.alert_ids[0]
        failures: list[str] = []
        for (method, route_path), entry in MATRIX.items():
            path = (entry.path or route_path).replace("ALERT", alert_id)
            for role in (None, *ROLES):
                answer = _call(server, method, entry, path, role)
                expected = _expected(entry, role)
                status = answer.status_code
                if expected == "public":
                    ok = status == entry.public_status
                elif expected == "unauthorized":
                    ok = status == 401
                elif expected == "forbidden":
                    ok = status == 403
                else:
                    ok = status not in (401, 403) and status < 500
                if not ok:
                    failures.append(f"{method} {path} as {role or 'nobody'}: {status} ({expected})")
        assert not failures, "\n".join(failures)


def test_web_ui_routes_refuse_anonymous_visitors(tmp_path: Path) -> None:
    with api_server(tmp_path) as server:
        with open_node(tmp_path / "other", detect=False) as node:
            _, ui = _app_keys(create_app(node, ServeConfig.default(), tokens=[TOKEN]))
        if not ui:
            pytest.skip("heron.web is not mounted")
        client = server.open(follow_redirects=False)
        for method, path in sorted(ui):
            if path in UI_PUBLIC or path == "/ui":
                continue
            concrete = path.replace("{alert_id}", "x").replace("{rule_id}", "x")
            concrete = concrete.replace("{kind}/{value:path}", "user/alice")
            answer = client.request(method, concrete)
            assert answer.status_code in (303, 401, 403), (method, path, answer.status_code)
            if answer.status_code == 303:
                assert answer.headers["location"].startswith("/ui/login")
