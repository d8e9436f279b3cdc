"""The UI in headless Chromium: sign in, dashboard, alert, pivot to search, close; XSS."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from .webdata import PASSWORD, XSS_USER, XSS_USER2, WebData


def _page(browser: Any, base_url: str, user: str = "ana") -> tuple[Any, list[str]]:
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    # CSP violations and script errors show as console errors: there must be none.
    page.on(
        "console",
        lambda message: (
            dialogs.append("console: " + message.text) if message.type == "error" else None
        ),
    )
    page.goto("/ui/")
    assert "/ui/login" in page.url  # anonymous visitors are sent to sign in
    page.fill('input[name="username"]', user)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url("**/ui/")
    return page, dialogs


def test_sign_in_dashboard_alert_pivot_and_close(
    browser: Any, base_url: str, web_data: WebData
) -> None:
    page, dialogs = _page(browser, base_url)
    # The dashboard and its charts (server-rendered SVG).
    assert page.locator("h1").first.inner_text() == "Overview"
    page.goto("/ui/?range=all")
    for chart in ("#chart-sources", "#chart-levels", "#chart-risk", "#chart-tactics"):
        assert page.locator(f"{chart} svg").count() == 1
    assert page.locator("#chart-sources svg rect").count() > 1
    tactics = page.locator("#chart-tactics svg").text_content() or ""
    assert "credential-access" in tactics and "initial-access" in tactics
    assert int(page.locator("#count-events").inner_text().replace(",", "")) >= 2

    # The queue, then one alert.
    page.click("nav >> text=Alerts")
    page.wait_for_url("**/ui/alerts")
    page.click("table.alerts >> text=SSH failed login")
    page.wait_for_url("**/ui/alerts/*")
    alert_url = page.url
    assert page.locator("#alert-status").inner_text().strip() == "new"
    assert page.locator("details.event").count() == 1

    # Pivot from an entity to the search page: the event is in the results.
    page.locator("table.entities tr", has_text="source.ip").locator("a.pivot").click()
    page.wait_for_url("**/ui/search?**")
    assert "198.51.100.7" in page.locator("textarea[name=q]").input_value()
    assert page.locator("table.results tbody tr").count() == 1
    assert "198.51.100.7" in page.locator("table.results").inner_text()
    assert page.locator("#histogram svg").count() == 1

    # Close the alert with a disposition and a comment.
    page.goto(alert_url)
    page.select_option("form.close-form select[name=disposition]", "false_positive")
    page.fill("form.close-form input[name=comment]", "scanner on the allow list")
    page.click("form.close-form button[value=close]")
    page.wait_for_url(alert_url)
    assert page.locator("#alert-status").inner_text().strip() == "closed (false_positive)"
    history = page.locator("ol.history").inner_text()
    assert "ana" in history and "scanner on the allow list" in history

    # It left the open queue and shows among the closed ones.
    page.goto("/ui/alerts")
    assert "SSH failed login" not in page.locator("table.alerts").inner_text()
    page.goto("/ui/alerts?status=closed")
    assert "SSH failed login" in page.locator("table.alerts").inner_text()
    assert dialogs == []
    page.context.close()


def _no_injected_markup(page: Any) -> None:
    assert page.locator("img").count() == 0
    assert page.locator("script").count() == 1  # heron.js only
    assert page.locator('a[href^="javascript:"]').count() == 0
    assert page.locator("b", has_text="probe").count() == 0


@pytest.mark.parametrize("where", ["search_hunt", "search_filter", "alert", "entity"])
def test_xss_payloads_from_logs_render_as_text(
    browser: Any, base_url: str, web_data: WebData, where: str
) -> None:
    page, dialogs = _page(browser, base_url)
    if where == "search_hunt":
        page.goto(
            "/ui/search?range=all&q="
            + quote('events | where event.dataset in ("web.access", "system.auth")')
        )
        text = page.locator("table.results").inner_text()
        assert XSS_USER in text and XSS_USER2 in text
    elif where == "search_filter":
        page.goto("/ui/search?range=all&mode=filter&q=" + quote("event.module=web"))
        page.locator("table.results details summary").first.click()
        text = page.locator("table.results").inner_text()
        assert XSS_USER in text
        assert '"><img src=x onerror=alert(1)>' in text
        assert "javascript:alert(document.cookie)" in text
    elif where == "alert":
        page.goto(f"/ui/alerts/{web_data.alert_ids['Web attack <b>probe</b>']}")
        assert "Web attack <b>probe</b>" in page.locator("h1").inner_text()
        assert XSS_USER in page.locator("table.entities").inner_text()
        assert '"><img src=x onerror=alert(1)>' in page.locator("details.event").inner_text()
        # The dossier link of the payload user opens the escaped entity page.
        page.locator("table.entities a.dossier", has_text="script").click()
        page.wait_for_url("**/ui/entity/user/**")
        assert page.locator(".entity-value").inner_text() == XSS_USER
    else:
        page.goto("/ui/entity/user/" + quote(XSS_USER2, safe="") + "?range=all")
        assert page.locator(".entity-value").inner_text() == XSS_USER2
        assert XSS_USER2 in page.locator("table.results").inner_text()
        assert "198.51.100.7" in page.locator(".related").inner_text()
    _no_injected_markup(page)
    assert dialogs == []
    page.context.close()


def test_an_admin_adds_a_log_file_from_the_browser(browser: Any, base_url: str) -> None:
    page, dialogs = _page(browser, base_url, "adam")
    page.click("nav >> text=Add data")
    page.wait_for_url("**/ui/ingest")
    lines = (
        "<38>1 2026-11-28T11:00:00Z browser01 sshd 9 - - Failed password for root from "
        "192.0.2.99 port 4100 ssh2\n<13>1 2026-11-28T11:00:01Z browser01 app - - - ok\n"
    )
    page.set_input_files(
        "input[name=files]",
        files=[{"name": "from-browser.log", "mimeType": "text/plain", "buffer": lines.encode()}],
    )
    page.click("form.ingest button[type=submit]")
    page.wait_for_url("**/ui/ingest")
    row = page.locator("table.ingested tbody tr").first.inner_text()
    assert row.split("\t")[:3] == ["from-browser.log", "2", "0"]
    # The events are there to search.
    page.goto("/ui/search?range=all&q=" + quote('events | where host.name == "browser01"'))
    assert page.locator("table.results tbody tr").count() == 2
    assert dialogs == []
    page.context.close()
