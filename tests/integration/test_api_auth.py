"""Authentication over real HTTP: login, cookies, rate limits, tokens, CSRF, setup, limits."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson

from heron.audit import AuditLog
from heron.auth import RateLimits

from .api_server import PASSWORD, api_server
from .serving import TOKEN


def test_login_sets_a_strict_http_only_session_cookie_and_logout_ends_it(tmp_path: Path) -> None:
    with api_server(tmp_path) as server:
        client = server.open()
        answer = client.post("/api/login", json={"name": "analyst-user", "password": PASSWORD})
        assert answer.status_code == 200
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith("heron_session=")
        for flag in ("HttpOnly", "SameSite=strict", "Path=/"):
            assert flag.lower() in cookie.lower()
        assert "secure" not in cookie.lower()  # plain HTTP here; Secure over TLS
        me = client.get("/api/me").json()
        assert me["name"] == "analyst-user" and "analyst" in me["scopes"]
        csrf = answer.json()["csrf"]
        assert client.post("/api/logout").status_code == 403  # no CSRF header
        assert client.post("/api/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
        session = cookie.split(";")[0].split("=", 1)[1]
        stale = server.open(cookies={"heron_session": session})
        assert stale.get("/api/me").status_code == 401
        actions = [r.action for r in AuditLog(tmp_path).records()]
        assert actions[-2:] == ["login", "logout"]


def test_without_credentials_every_answer_is_a_bare_401(tmp_path: Path) -> None:
    with api_server(tmp_path) as server:
        client = server.open()
        for method, path in (
            ("GET", "/api/events"),
            ("GET", "/api/alerts/x"),
            ("POST", "/api/hunt"),
            ("GET", "/api/nonexistent"),
            ("GET", "/api/docs"),
        ):
            answer = client.request(method, path, content=b"{not json")
            assert answer.status_code == 401, path
            assert answer.json() == {"error": "unauthorized"}
        bogus = {"Authorization": "Bearer heron_forged", "Cookie": "heron_session=forged"}
        assert client.get("/api/events", headers=bogus).status_code == 401
        # The OpenAPI document itself is public.
        assert client.get("/openapi.json").json()["openapi"].startswith("3.")


def test_wrong_passwords_are_rate_limited_with_the_same_answer_for_unknown_users(
    tmp_path: Path,
) -> None:
    with api_server(tmp_path, limits=RateLimits(per_user=3, per_client=50)) as server:
        client = server.open()
        bodies = []
        for name in ("read-user", "no-such-user"):
            for _ in range(3):
                answer = client.post("/api/login", json={"name": name, "password": "wrong-pass"})
                assert answer.status_code == 401
                bodies.append(answer.content)
            limited = client.post("/api/login", json={"name": name, "password": PASSWORD})
            assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
        assert len(set(bodies)) == 1
        assert orjson.loads(bodies[0]) == {"error": "invalid user name or password"}
        failed = [r for r in AuditLog(tmp_path).records() if r.action == "login_failed"]
        assert len(failed) == 8 and failed[0].target == "read-user"


def test_expired_and_revoked_tokens_are_refused(tmp_path: Path) -> None:
    with api_server(tmp_path) as server:
        admin = server.client("admin")
        made = admin.post("/api/tokens", json={"name": "robot", "scopes": ["read"]})
        assert made.status_code == 201
        secret = made.json()["secret"]
        robot = server.open(headers={"Authorization": f"Bearer {secret}"})
        assert robot.get("/api/alerts").status_code == 200
        assert robot.post("/api/tokens", json={"name": "x", "scopes": ["admin"]}).status_code == 403
        listed = admin.get("/api/tokens").json()["tokens"]
        assert "secret" not in str(listed) and secret not in str(listed)
        assert admin.delete("/api/tokens/robot").status_code == 200
        assert robot.get("/api/alerts").status_code == 401
        short = server.auth.create_token("short", ["read"], time.time_ns() + 300_000_000)
        brief = server.open(headers={"Authorization": f"Bearer {short}"})
        assert brief.get("/api/alerts").status_code == 200
        time.sleep(0.4)
        assert brief.get("/api/alerts").status_code == 401


def test_cookie_authenticated_changes_need_the_csrf_header(tmp_path: Path) -> None:
    with api_server(tmp_path) as server:
        client, csrf = server.login("admin-user")
        body = {"name": "newbie", "password": PASSWORD, "role": "read"}
        assert client.post("/api/users", json=body).status_code == 403
        wrong = client.post("/api/users", json=body, headers={"X-CSRF-Token": "x" * 43})
        assert wrong.status_code == 403 and "CSRF" in wrong.json()["error"]
        assert (
            client.post("/api/users", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
        )
        assert client.get("/api/users").status_code == 200  # reading needs no token
        # A bearer token is not a cookie: no CSRF token needed.
        made = server.client("admin").post("/api/users", json={**body, "name": "other"})
        assert made.status_code == 201


def test_setup_token_creates_the_first_admin_once(tmp_path: Path) -> None:
    with api_server(tmp_path, users=False) as server:
        assert server.setup_token
        client = server.open()
        bad = client.post(
            "/api/setup", json={"token": "guess", "name": "root", "password": PASSWORD}
        )
        assert bad.status_code == 403
        good = client.post(
            "/api/setup", json={"token": server.setup_token, "name": "root", "password": PASSWORD}
        )
        assert good.status_code == 201
        again = client.post(
            "/api/setup", json={"token": server.setup_token, "name": "evil", "password": PASSWORD}
        )
        assert again.status_code == 403
        assert client.post("/api/login", json={"name": "root", "password": PASSWORD}).is_success


def test_ingest_accepts_api_tokens_with_the_ingest_scope_only(tmp_path: Path) -> None:
    with api_server(tmp_path) as server:
        event = orjson.dumps({"event": "hello"})
        hec = "/services/collector/event"
        for role, status in (("ingest", 200), ("admin", 200), ("read", 401), ("analyst", 401)):
            answer = httpx.post(
                server.url + hec,
                content=event,
                headers={"Authorization": f"Splunk {server.tokens[role]}"},
            )
            assert answer.status_code == status, role
        classic = httpx.post(
            server.url + hec, content=event, headers={"Authorization": f"Splunk {TOKEN}"}
        )
        assert classic.status_code == 200
        bulk = httpx.get(server.url + "/", headers=server.bearer("ingest"))
        assert bulk.status_code == 200 and bulk.json()["version"]["number"]
        server.auth.revoke_token("ingest-token")
        revoked = httpx.post(
            server.url + hec,
            content=event,
            headers={"Authorization": f"Splunk {server.tokens['ingest']}"},
        )
        assert revoked.status_code == 401


def test_browsers_opening_the_root_go_to_the_ui(tmp_path: Path) -> None:
    with api_server(tmp_path) as server:
        answer = httpx.get(server.url + "/", headers={"Accept": "text/html,*/*"})
        assert answer.status_code == 303 and answer.headers["location"] == "/ui/"
        es = httpx.get(server.url + "/", headers={"Authorization": f"Bearer {TOKEN}"})
        assert es.status_code == 200 and es.headers["x-elastic-product"] == "Elasticsearch"


def test_oversized_bodies_and_filters_are_refused(tmp_path: Path) -> None:
    with api_server(tmp_path) as server:
        client = server.client("admin")
        huge = client.post(
            "/api/hunt",
            content=b"x" * (2 * 1024 * 1024),
            headers={"Content-Type": "application/json"},
        )
        assert huge.status_code == 413 and "limit" in huge.json()["error"]

        def chunks():  # no Content-Length: the limit applies while streaming
            for _ in range(40):
                yield b"y" * 65536

        streamed = client.post(
            "/api/hunt", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert streamed.status_code == 413
        long_query = client.post("/api/hunt", json={"query": "x" * (64 * 1024 + 1)})
        assert long_query.status_code == 422 and "65536" in long_query.json()["error"]
        many = client.post(
            "/api/alerts/bulk",
            json={"ids": [f"a{i}" for i in range(1001)], "status": "acknowledged"},
        )
        assert many.status_code == 422 and "1000" in many.json()["error"]
        too_many_rows = client.get("/api/events", params={"limit": 10_001})
        assert too_many_rows.status_code == 422
        bad_field = client.get("/api/events", params={"a b": "x"})
        assert bad_field.status_code == 422 and "field" in bad_field.json()["error"]


def test_first_start_prints_a_one_time_setup_token(tmp_path: Path) -> None:
    from .serving import HeronProcess, free_port

    port = free_port()
    process = HeronProcess(tmp_path, tmp_path / "data", {}).start_plain(port)
    try:
        found = [line for line in process.output if "setup token" in line]
        assert len(found) == 1
        token = found[0].split("(valid 24 h): ")[1].split()[0]
        url = f"http://127.0.0.1:{port}"
        made = httpx.post(
            url + "/api/setup", json={"token": token, "name": "root", "password": PASSWORD}
        )
        assert made.status_code == 201
        login = httpx.post(url + "/api/login", json={"name": "root", "password": PASSWORD})
        assert login.status_code == 200 and login.json()["role"] == "admin"
        raw = (tmp_path / "data" / "state" / "auth.sqlite").read_bytes()
        assert token.encode() not in raw
        # A token made by the CLI in another process works at once on the running server.
        made_by_cli = subprocess.run(
            [
                sys.executable,
                "-m",
                "heron.cli",
                "tokens",
                "create",
                "ops",
                "--scope",
                "read",
                "--data-dir",
                str(tmp_path / "data"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        secret = made_by_cli.stdout.split()[0]
        me = httpx.get(url + "/api/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.status_code == 200 and me.json()["name"] == "ops"
    finally:
        assert process.terminate() == 0
    # With a user, the next start prints no setup token.
    again = HeronProcess(tmp_path, tmp_path / "data", {}).start_plain(free_port())
    try:
        assert not any("setup token" in line for line in again.output)
    finally:
        again.terminate()


def test_the_session_cookie_is_secure_over_tls(tmp_path: Path) -> None:
    import ssl

    from .test_serve_syslog import _make_certs

    ca, cert, key = _make_certs(tmp_path)
    tls = {"tls": {"cert": str(cert), "key": str(key)}}
    with api_server(tmp_path / "data", http=tls) as server:
        assert server.url.startswith("https://")
        client = server.open(verify=ssl.create_default_context(cafile=str(ca)))
        answer = client.post("/api/login", json={"name": "read-user", "password": PASSWORD})
        assert answer.status_code == 200
        flags = [f.strip().lower() for f in answer.headers["set-cookie"].split(";")]
        assert {"secure", "httponly", "samesite=strict", "path=/"} <= set(flags)
        assert client.get("/api/me").json()["name"] == "read-user"
