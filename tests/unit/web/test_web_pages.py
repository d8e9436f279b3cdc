"""UI pages over HTTP: sign-in, roles, CSRF, headers, static files, bad input."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx

from ui.signin import login
from ui.webdata import PASSWORD, WebData


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]*)"', text)
    assert found is not None
    return found.group(1)


def test_pages_need_a_session(client: httpx.Client) -> None:
    pages = (
        "/ui/",
        "/ui/alerts",
        "/ui/search",
        "/ui/rules",
        "/ui/intel",
        "/ui/entity/user/x",
        "/ui/ingest",
    )
    for path in pages:
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/ui/login?next=")


def test_every_page_renders_with_security_headers(client: httpx.Client, web_data: WebData) -> None:
    login(client, "rita")
    alert_id = web_data.alert_ids["SSH failed login"]
    for path in (
        "/ui/",
        "/ui/?range=all",
        "/ui/alerts?status=any&level=high&order=risk_score",
        f"/ui/alerts/{alert_id}",
        "/ui/search",
        "/ui/search?range=all&q=" + quote("events | summarize n = count() by event.dataset"),
        "/ui/search?range=7d&q=" + quote("user.name=IEUser"),
        "/ui/entity/ip/198.51.100.7?range=all",
        "/ui/entity/host/web01",
        "/ui/rules",
        "/ui/intel",
    ):
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text[:500])
        headers = answer.headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cache-control"] == "no-store"
        # No inline scripts anywhere: the CSP would block them.
        assert re.search(r"<script(?![^>]*\bsrc=)", answer.text) is None
        assert " on" + "click=" not in answer.text


def test_login_failure_is_generic_and_rate_limited(client: httpx.Client) -> None:
    messages = set()
    for user in ("ana", "nobody-here"):
        form = client.get("/ui/login").text
        answer = client.post(
            "/ui/login", data={"csrf": _csrf(form), "username": user, "password": "wrong"}
        )
        assert answer.status_code == 401
        messages.add(re.search(r'role="alert">([^<]*)<', answer.text).group(1))  # type: ignore[union-attr]
    assert messages == {"Wrong user name or password."}
    statuses = []
    for _ in range(12):
        form = client.get("/ui/login").text
        statuses.append(
            client.post(
                "/ui/login", data={"csrf": _csrf(form), "username": "rl-victim", "password": "x"}
            ).status_code
        )
    assert 429 in statuses
    assert (
        "Too many attempts"
        in client.post(
            "/ui/login",
            data={
                "csrf": _csrf(client.get("/ui/login").text),
                "username": "rl-victim",
                "password": "x",
            },
        ).text
    )


def test_login_form_needs_its_csrf_cookie(client: httpx.Client) -> None:
    client.get("/ui/login")
    answer = client.post(
        "/ui/login", data={"csrf": "forged", "username": "ana", "password": PASSWORD}
    )
    assert answer.status_code == 403
    fresh = httpx.post(
        str(client.base_url) + "/ui/login",
        data={"csrf": "x", "username": "ana", "password": PASSWORD},
    )
    assert fresh.status_code == 403


def test_login_never_redirects_off_site(client: httpx.Client) -> None:
    form = client.get("/ui/login?next=https://evil.example/").text
    assert 'value="/ui/"' in form
    answer = client.post(
        "/ui/login",
        data={
            "csrf": _csrf(form),
            "username": "ana",
            "password": PASSWORD,
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/"


def test_forms_without_or_with_a_wrong_csrf_token_are_refused(
    client: httpx.Client, web_data: WebData
) -> None:
    token = login(client, "ana")
    alert_id = web_data.alert_ids["LSASS dump"]
    url = f"/ui/alerts/{alert_id}/update"
    for data in ({"action": "acknowledge"}, {"action": "acknowledge", "csrf": "wrong"}):
        assert client.post(url, data=data, follow_redirects=False).status_code == 403
        bulk = client.post("/ui/alerts/bulk", data={**data, "ids": alert_id})
        assert bulk.status_code == 403
    assert client.post("/ui/logout", data={"csrf": "wrong"}).status_code == 403
    assert ">new<" in client.get(f"/ui/alerts/{alert_id}").text.replace("\n", "")
    # With the token the same post works.
    done = client.post(url, data={"action": "acknowledge", "csrf": token}, follow_redirects=False)
    assert done.status_code == 303
    assert "acknowledged" in client.get(f"/ui/alerts/{alert_id}").text
    reopen = client.post(url, data={"action": "reopen", "csrf": token}, follow_redirects=False)
    assert reopen.status_code == 303


def test_read_role_sees_but_cannot_act(client: httpx.Client, web_data: WebData) -> None:
    token = login(client, "rita")
    alert_id = web_data.alert_ids["LSASS dump"]
    page = client.get(f"/ui/alerts/{alert_id}").text
    assert 'value="close"' not in page
    answer = client.post(
        f"/ui/alerts/{alert_id}/update", data={"action": "acknowledge", "csrf": token}
    )
    assert answer.status_code == 403


def test_bulk_close_needs_a_disposition_then_closes(
    client: httpx.Client, web_data: WebData
) -> None:
    token = login(client, "ana")
    ids = [web_data.alert_ids["LSASS dump"], web_data.alert_ids["Web attack <b>probe</b>"]]
    refused = client.post("/ui/alerts/bulk", data={"csrf": token, "action": "close", "ids": ids})
    assert refused.status_code == 400 and "disposition" in refused.text
    done = client.post(
        "/ui/alerts/bulk",
        data={
            "csrf": token,
            "action": "close",
            "disposition": "benign",
            "ids": ids,
            "comment": "lab",
            "back": "/ui/alerts?status=closed",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/ui/alerts?status=closed"
    closed = client.get("/ui/alerts?status=closed").text
    assert "LSASS dump" in closed and "benign" in closed
    client.post("/ui/alerts/bulk", data={"csrf": token, "action": "reopen", "ids": ids})
    assign = client.post(
        "/ui/alerts/bulk", data={"csrf": token, "action": "assign", "assignee": "ana", "ids": ids}
    )
    assert assign.status_code == 303
    assert "LSASS dump" in client.get("/ui/alerts?assignee=ana").text


def test_static_files_refuse_path_traversal(client: httpx.Client) -> None:
    ok = client.get("/ui/static/heron.css")
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/css")
    for path in (
        "/ui/static/../templates/base.html",
        "/ui/static/%2e%2e/templates/base.html",
        "/ui/static/..%2f..%2fpyproject.toml",
        "/ui/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/ui/static/nope.js",
    ):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "<html" not in answer.text and "root:" not in answer.text


def test_bad_and_oversized_input_is_refused_cleanly(client: httpx.Client) -> None:
    login(client, "rita")
    broken = client.get("/ui/search?range=all&q=" + quote("events | where | take 5"))
    assert broken.status_code == 400
    assert "query-error" in broken.text and "^" in broken.text
    big = client.get("/ui/search?q=" + "a" * 10_001)
    assert big.status_code == 400 and "longer than" in big.text
    filt = client.get("/ui/alerts?text=" + "x" * 600)
    assert filt.status_code == 400
    assert client.get("/ui/alerts?entity=nonsense").status_code == 400
    assert client.get("/ui/alerts?page=notanumber").status_code == 400
    assert client.get("/ui/?from=yesterday").status_code == 400
    assert client.get("/ui/entity/planet/mars").status_code == 404
    assert client.get("/ui/alerts/does-not-exist").status_code == 404


def test_logout_ends_the_session(client: httpx.Client) -> None:
    token = login(client, "ana")
    answer = client.post("/ui/logout", data={"csrf": token}, follow_redirects=False)
    assert answer.status_code == 303
    assert client.get("/ui/", follow_redirects=False).status_code == 303


def test_admin_switches_a_rule_and_others_cannot(client: httpx.Client) -> None:
    token = login(client, "ana")
    page = client.get("/ui/rules").text
    assert "needs the admin role" in page
    rule_id = re.search(r'title="([^"]+)"', page.split("<tbody>")[1])
    assert rule_id is not None
    url = f"/ui/rules/{rule_id.group(1)}/switch"
    assert client.post(url, data={"csrf": token, "enabled": "false"}).status_code == 403
    admin = login(client, "adam")
    assert client.post(url, data={"enabled": "false"}).status_code == 403  # no CSRF token
    done = client.post(url, data={"csrf": admin, "enabled": "false"}, follow_redirects=False)
    assert done.status_code == 303
    row = re.search(rf'title="{rule_id.group(1)}".*?</tr>', client.get("/ui/rules").text, re.S)
    assert row is not None and "disabled" in row.group(0)
    client.post(url, data={"csrf": admin, "enabled": "true"})


def test_analyst_actions_are_audited(client: httpx.Client, web_data: WebData) -> None:
    from heron.audit.log import AuditLog

    token = login(client, "ana")
    client.get("/ui/search?range=all&q=" + quote("events | take 1"))
    alert_id = web_data.alert_ids["SSH failed login"]
    client.post(
        f"/ui/alerts/{alert_id}/update", data={"csrf": token, "action": "comment", "comment": "hi"}
    )
    records = [r.to_dict() for r in AuditLog(web_data.data_dir).records()]
    seen = {(r["actor"], r["action"]) for r in records}
    assert {("ana", "login"), ("ana", "query"), ("ana", "alert.update")} <= seen
    assert AuditLog(web_data.data_dir).verify().ok


def test_a_hunt_exports_from_the_search_page_with_the_session(
    client: httpx.Client, web_data: WebData
) -> None:
    import html

    login(client, "rita")
    hunt = "events | summarize n = count() by event.dataset"
    page = client.get("/ui/search?range=all&q=" + quote(hunt)).text
    found = re.search(r'id="export-csv" href="([^"]+)"', page)
    assert found is not None
    download = client.get(html.unescape(found.group(1)))
    assert download.status_code == 200, download.text[:300]
    assert download.headers["content-disposition"].startswith("attachment;")
    header, *rows = download.text.splitlines()
    assert header == "event.dataset,n" and rows


def test_admin_sets_and_removes_placeholder_values(client: httpx.Client, web_data: WebData) -> None:
    from heron.audit.log import AuditLog
    from heron.detect.rulestate import rule_placeholders

    token = login(client, "ana")
    page = client.get("/ui/rules").text
    assert 'action="/ui/rules/placeholders"' not in page  # analysts see the values only
    form = {"csrf": token, "name": "known_cdcs", "values": "CDC01$\n  CDC02$ \n\n"}
    assert client.post("/ui/rules/placeholders", data=form).status_code == 403
    admin = login(client, "adam")
    assert client.post("/ui/rules/placeholders", data={**form, "csrf": "x"}).status_code == 403
    done = client.post(
        "/ui/rules/placeholders", data={**form, "csrf": admin}, follow_redirects=False
    )
    assert done.status_code == 303
    page = client.get("/ui/rules").text
    assert "%known_cdcs%" in page and "<code>CDC02$</code>" in page
    bad = client.post("/ui/rules/placeholders", data={"csrf": admin, "name": "%x%", "values": "y"})
    assert bad.status_code == 400 and "not a placeholder name" in bad.text
    gone = client.post(
        "/ui/rules/placeholders", data={"csrf": admin, "name": "known_cdcs", "values": ""}
    )
    assert gone.status_code == 303 and "%known_cdcs%" not in client.get("/ui/rules").text
    actions = [(r.actor, r.action, r.target) for r in AuditLog(web_data.data_dir).records()]
    assert ("adam", "rule.placeholder.set", "known_cdcs") in actions
    assert ("adam", "rule.placeholder.unset", "known_cdcs") in actions
    assert rule_placeholders(web_data.data_dir) == {}
