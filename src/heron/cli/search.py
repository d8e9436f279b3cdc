"""``heron search``: time range, field filters and free text over stored events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from heron.api.limits import MAX_EVENTS_LIMIT
from heron.cli.node import NodeApi, node_api
from heron.cli.options import data_dir_option, format_option
from heron.cli.output import emit_rows
from heron.errors import HeronError
from heron.model.timeutil import parse_time
from heron.store.base import SearchQuery
from heron.store.duckdb import DuckDBStore

__all__ = ["search"]

_TABLE_COLUMNS = ["@timestamp", "event.code", "host.name", "user.name", "source.ip", "message"]


def split_terms(terms: tuple[str, ...]) -> tuple[dict[str, str], str | None]:
    """``field=value`` terms as filters; everything else is free text."""
    filters: dict[str, str] = {}
    words: list[str] = []
    for term in terms:
        name, eq, value = term.partition("=")
        if eq and name and " " not in name:
            filters[name] = value
        else:
            words.append(term)
    return filters, " ".join(words) or None


@click.command()
@click.argument("terms", nargs=-1)
@click.option("--from", "start", help="Start: ISO time, 'now', or a duration ago (24h, 7d).")
@click.option("--to", "end", help="End (exclusive), same forms as --from.")
@click.option("--limit", type=click.IntRange(min=0), default=100, show_default=True)
@format_option("table", "json", "csv")
@data_dir_option
def search(
    terms: tuple[str, ...],
    start: str | None,
    end: str | None,
    limit: int,
    output_format: str,
    data_dir: str,
) -> None:
    """Find events: `heron search --from 24h user.name=alice 'Failed password'`.

    field=value terms filter on a field (case-insensitive, * is a wildcard); other terms
    are free text that must all appear in the raw event.
    """
    filters, text = split_terms(terms)
    try:
        query = SearchQuery(
            start=parse_time(start) if start else None,
            end=parse_time(end) if end else None,
            filters=filters,
            text=text,
            limit=limit,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    if not Path(data_dir).exists():
        raise click.ClickException(f"no Heron data in {data_dir} (run 'heron ingest' first)")
    with node_api(data_dir) as node:
        if node is not None:
            events = _search_node(node, query)
        else:
            try:
                with DuckDBStore(data_dir, read_only=True) as store:
                    events = store.search(query)
            except HeronError as exc:
                raise click.ClickException(str(exc)) from exc
    if output_format == "table":
        rows = [_table_row(e) for e in events]
        emit_rows(rows, "table", columns=_TABLE_COLUMNS)
    else:
        emit_rows(events, output_format)


def _search_node(node: NodeApi, query: SearchQuery) -> list[dict[str, Any]]:
    """``query`` asked of the running node (``GET /api/events``)."""
    if query.limit > MAX_EVENTS_LIMIT:
        raise click.ClickException(
            f"a node serves {node.data_dir}: it answers at most {MAX_EVENTS_LIMIT:,} events "
            "(use a smaller --limit, or 'heron hunt' to count and summarize)"
        )
    reserved = {"start", "end", "q", "limit"} & set(query.filters)
    if reserved:
        raise click.ClickException(
            f"a node serves {node.data_dir}: its API cannot filter on {sorted(reserved)}"
        )
    if query.limit == 0:
        return []  # as the store answers LIMIT 0 (the API takes at least 1)
    params: dict[str, Any] = {"limit": query.limit, **query.filters}
    for key, value in (("start", query.start), ("end", query.end), ("q", query.text)):
        if value is not None:
            params[key] = value
    events: list[dict[str, Any]] = node.call("GET", "/api/events", params=params)["events"]
    return events


def _table_row(event: dict[str, object]) -> dict[str, object]:
    row = dict(event)
    if not row.get("message"):
        row["message"] = str(event.get("event.original", ""))[:160]
    return row
