"""The threat-intel page: what indicators the node holds, how its feeds are doing, and
what they matched."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from heron.model.timeutil import format_ns
from heron.web.access import requires
from heron.web.context import store_of
from heron.web.render import page

__all__ = ["intel_page"]


def _matches(request: Request) -> list[dict[str, Any]]:
    """Intel alerts per source (``intel:<source>``): all, open, the last one's time."""
    cur = store_of(request).connection()
    exists = cur.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'alerts'"
    ).fetchone()
    if not exists or not exists[0]:
        return []
    rows = cur.execute(
        "SELECT \"rule.id\", count(*), count(*) FILTER (WHERE status <> 'closed'), "
        "epoch_ns(max(last_seen)) FROM alerts WHERE starts_with(\"rule.id\", 'intel:') "
        "GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    return [
        {"rule_id": r[0], "source": str(r[0]).removeprefix("intel:"), "alerts": r[1], "open": r[2],
         "last": format_ns(int(r[3])) if r[3] is not None else ""}
        for r in rows
    ]  # fmt: skip


def _feeds(request: Request) -> list[dict[str, Any]]:
    from heron.intel.feeds import feed_state_text, feed_states

    return [feed_state_text(name, row) for name, row in feed_states(store_of(request)).items()]


@requires("read")
def intel_page(request: Request) -> Response:
    from heron.intel.store import IntelStore

    held = IntelStore(store_of(request), read_only=True).summary()
    return page(
        request,
        "intel.html",
        {
            "title": "Threat intel",
            "sources": held,
            "active": sum(int(r["active"]) for r in held),
            "feeds": _feeds(request),
            "matches": _matches(request),
        },
    )
