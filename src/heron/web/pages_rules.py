"""The rules page: every loaded rule with its level, tags, state and alert counts."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from heron.web.access import FORM_LIMITS, audit, check_form_csrf, principal_of, requires
from heron.web.context import store_of
from heron.web.render import page

__all__ = ["placeholder_change", "rule_switch", "rules_page"]


def _loaded_rules(request: Request) -> list[dict[str, Any]]:
    """The node's rules (the built-in pack when the node runs without detection)."""
    state = request.app.state
    book = getattr(state, "rulebook", None)
    if book is not None:
        return [dict(row) for row in book.rows()]
    cached = getattr(state, "web_rules", None)
    if cached is not None:
        return list(cached)
    node = state.node
    engine = getattr(node.detector, "detectors", None)
    if engine is None:
        from heron.detect.rulestate import rule_placeholders
        from heron.detect.sigma.cache import default_cache_dir
        from heron.detect.sigma.engine import SigmaEngine
        from heron.rules import builtin_rule_paths

        paths = list(node.rule_paths) if node.rule_paths else builtin_rule_paths()
        engine = SigmaEngine.from_paths(
            paths,
            default_cache_dir(node.data_dir),
            placeholders=rule_placeholders(node.data_dir),
        )
    rows = [
        {
            "id": r.id,
            "title": r.title,
            "level": r.level or "medium",
            "tags": list(r.tags),
            "kind": "rule",
            "status": r.status,
            "logsource": str(r.logsource),
        }
        for r in engine.rules
    ]
    rows.extend(
        {
            "id": c.id,
            "title": c.title,
            "level": c.level or "medium",
            "tags": list(c.tags),
            "kind": f"correlation: {c.type}",
            "status": c.status,
            "logsource": "",
        }
        for c in engine.correlations
    )
    state.web_rules = rows
    return list(rows)


def _alert_counts(request: Request) -> dict[str, tuple[int, int]]:
    store = store_of(request)
    cur = store.connection()
    exists = cur.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'alerts'"
    ).fetchone()
    if not exists or not exists[0]:
        return {}
    rows = cur.execute(
        "SELECT \"rule.id\", count(*), count(*) FILTER (WHERE status <> 'closed') "
        "FROM alerts GROUP BY 1"
    ).fetchall()
    return {str(r[0]): (int(r[1]), int(r[2])) for r in rows}


@requires("read")
def rules_page(request: Request) -> Response:
    rules = _loaded_rules(request)
    counts = _alert_counts(request)
    for rule in rules:
        rule["alerts"], rule["open"] = counts.get(rule["id"], (0, 0))
    rules.sort(key=lambda r: (-r["alerts"], r["title"]))
    book = getattr(request.app.state, "rulebook", None)
    return page(
        request,
        "rules.html",
        {
            "title": "Rules",
            "rules": rules,
            "switchable": book is not None,
            "can_switch": book is not None and principal_of(request).allows("admin"),
            "not_applied": book.not_applied if book is not None else None,
            "placeholders": _placeholders(request),
        },
    )


def _placeholders(request: Request) -> dict[str, list[str]]:
    """The values rules expand (``heron rules placeholders``); none when unreadable (the
    rules list says why loading fails)."""
    from heron.detect.rulestate import rule_placeholders
    from heron.errors import ConfigError

    try:
        return rule_placeholders(request.app.state.node.data_dir)
    except ConfigError:
        return {}


def _client_status(status: int) -> int:
    # A rule book error outside 4xx (a damaged state file) is answered 400 on a page.
    return status if 400 <= status < 500 else 400


def _refused(request: Request, title: str, message: str, status: int) -> Response:
    return page(request, "error.html", {"title": title, "message": message}, status_code=status)


async def _checked_book(request: Request) -> tuple[Any, Any] | Response:
    """The admin form and the node's rule book, or the page refusing the change."""
    form = await request.form(**FORM_LIMITS)
    if not check_form_csrf(request, form.get("csrf")):
        return _refused(request, "Refused", "Missing or wrong CSRF token.", 403)
    book = getattr(request.app.state, "rulebook", None)
    if book is None:
        return _refused(request, "Not available", "This node has no rule book.", 404)
    return form, book


@requires("admin")
async def rule_switch(request: Request) -> Response:
    """Enable or disable a rule through the node's rule book (as the API does)."""
    from heron.api.rulebook import RuleBookError

    checked = await _checked_book(request)
    if isinstance(checked, Response):
        return checked
    form, book = checked
    rule_id = request.path_params["rule_id"][:256]
    enabled = form.get("enabled") == "true"
    try:
        await run_in_threadpool(book.set_enabled, rule_id, enabled)
    except RuleBookError as exc:
        return _refused(request, "Refused", str(exc), _client_status(exc.status))
    await run_in_threadpool(audit, request, "rule.enable" if enabled else "rule.disable", rule_id)
    return RedirectResponse("/ui/rules", status_code=303)


@requires("admin")
async def placeholder_change(request: Request) -> Response:
    """Set a placeholder's values (one a line) or, with none, remove it: checked and
    applied as ``PUT|DELETE /api/rules/placeholders/{name}`` are."""
    from heron.api.rulebook import (
        MAX_PLACEHOLDER_VALUE_CHARS,
        MAX_PLACEHOLDER_VALUES,
        RuleBookError,
    )

    checked = await _checked_book(request)
    if isinstance(checked, Response):
        return checked
    form, book = checked
    name = str(form.get("name") or "").strip()[:100]
    lines = str(form.get("values") or "").splitlines()
    values = [line.strip() for line in lines if line.strip()]
    if len(values) > MAX_PLACEHOLDER_VALUES or any(
        len(v) > MAX_PLACEHOLDER_VALUE_CHARS for v in values
    ):
        limits = f"{MAX_PLACEHOLDER_VALUES:,} values of {MAX_PLACEHOLDER_VALUE_CHARS:,} characters"
        return _refused(request, "Refused", f"At most {limits}.", 400)
    try:
        await run_in_threadpool(book.set_placeholder, name, values or None)
    except RuleBookError as exc:
        return _refused(request, "Refused", str(exc), _client_status(exc.status))
    if values:
        await run_in_threadpool(audit, request, "rule.placeholder.set", name, values=len(values))
    else:
        await run_in_threadpool(audit, request, "rule.placeholder.unset", name)
    return RedirectResponse("/ui/rules", status_code=303)
