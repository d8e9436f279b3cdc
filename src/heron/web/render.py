"""Templates and responses of the web UI: one Jinja2 environment with autoescape always on."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader
from starlette.requests import Request
from starlette.responses import HTMLResponse

from heron.model.schema import TIMESTAMP_FIELDS
from heron.model.timeutil import format_ns

__all__ = ["ENV", "entity_href", "hunt_literal", "page", "pivot_href", "short_ns"]


#: A field name the hunting language takes unquoted (its grammar's NAME).
_NAME = re.compile(r"@?[A-Za-z_][A-Za-z0-9_@]*(\.[A-Za-z0-9_@]+)*")


def field_text(name: str, value: Any) -> Any:
    """A field's value for display: stored timestamps (int ns) as RFC 3339 text."""
    if name in TIMESTAMP_FIELDS and isinstance(value, int):
        return format_ns(value)
    return value


def short_ns(ns: int | None) -> str:
    """A timestamp as ``YYYY-MM-DD HH:MM:SS`` UTC (the full value goes in a title)."""
    if ns is None:
        return "—"
    return format_ns(int(ns))[:19].replace("T", " ")


def hunt_literal(value: str) -> str:
    """``value`` as a double-quoted string literal of the hunting language."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return '"' + escaped + '"'


def pivot_href(field: str, value: str) -> str:
    """A search-page link for the events where ``field`` equals ``value``."""
    if _NAME.fullmatch(field):
        name = field
    else:
        quote_char = "'" if "'" not in field else '"'
        name = f"[{quote_char}{field}{quote_char}]"
    query = f"events | where {name} == {hunt_literal(value)} | sort by @timestamp desc"
    return "/ui/search?" + urlencode({"q": query, "range": "all"})


def entity_href(kind: str, value: str) -> str:
    """The dossier link of an entity (the value may hold slashes or backslashes)."""
    return f"/ui/entity/{quote(kind, safe='')}/{quote(value, safe='')}"


def _query(params: dict[str, Any]) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")}, doseq=True)


ENV = Environment(
    loader=PackageLoader("heron.web", "templates"),
    # Every value from logs is escaped; templates never mark log data safe.
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["ts"] = short_ns
ENV.filters["iso"] = lambda ns: "" if ns is None else format_ns(int(ns))
ENV.globals.update(
    field_text=field_text,
    pivot_href=pivot_href,
    entity_href=entity_href,
    hunt_literal=hunt_literal,
    urlquery=_query,
)


def page(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    """Render ``template`` with the signed-in principal and its CSRF token in the context."""
    from heron.web.access import csrf_for, principal_of

    principal = principal_of(request)
    body = ENV.get_template(template).render(
        request=request,
        principal=principal,
        csrf=csrf_for(request) if principal is not None else "",
        path=request.url.path,
        **context,
    )
    return HTMLResponse(body, status_code=status_code)
