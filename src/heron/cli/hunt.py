"""``heron hunt``: run a hunt (Kusto-style pipes) over stored events; ``heron searches``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

import click
import orjson

from heron.api.limits import MAX_EVENTS_LIMIT, MAX_HUNT_TIMEOUT_S
from heron.cli.node import NodeApi, node_api
from heron.cli.options import data_dir_option, format_option
from heron.cli.output import emit_rows
from heron.errors import HeronError
from heron.model.timeutil import format_ns, now_ns

__all__ = ["hunt", "searches"]


def _open(data_dir: str, *, read_only: bool) -> Any:
    from heron.store.duckdb import DuckDBStore

    if not Path(data_dir).is_dir():
        raise click.ClickException(f"no Heron data in {data_dir} (run 'heron ingest' first)")
    try:
        return DuckDBStore(data_dir, read_only=read_only)
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc


def _query_text(query: str | None) -> str:
    if query is None:
        raise click.UsageError("give a query: heron hunt 'events | take 10' (or - to read stdin)")
    return sys.stdin.read() if query == "-" else query


@click.command()
@click.argument("query", required=False)
@format_option("table", "json", "csv", "parquet")
@click.option(
    "--out", type=click.Path(dir_okay=False), help="Write to this file (parquet needs it)."
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=10_000,
    show_default=True,
    help="Most rows to return; 0 for no cap.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="Seconds before the hunt is stopped.",
)
@click.option(
    "--explain", is_flag=True, help="Print the SQL that would run, instead of running it."
)
@click.option(
    "--dialect",
    type=click.Choice(["duckdb", "clickhouse"]),
    default="duckdb",
    help="SQL dialect for --explain.",
)
@click.option("--fields", "list_fields", is_flag=True, help="List the field names in the data.")
@click.option("--save", "save_name", metavar="NAME", help="Save the query under NAME (not run).")
@click.option("--schedule", help="With --save: run every interval (5m, 1h).")
@click.option("--alert", is_flag=True, help="With --save --schedule: rows raise alerts.")
@click.option(
    "--level", default="medium", show_default=True, help="With --alert: the alerts' level."
)
@click.option("--description", default="", help="With --save: what the search looks for.")
@click.option("--saved", "saved_name", metavar="NAME", help="Run the saved search NAME.")
@data_dir_option
def hunt(
    query: str | None,
    output_format: str,
    out: str | None,
    limit: int,
    timeout: float,
    explain: bool,
    dialect: str,
    list_fields: bool,
    save_name: str | None,
    schedule: str | None,
    alert: bool,
    level: str,
    description: str,
    saved_name: str | None,
    data_dir: str,
) -> None:
    """Hunt with pipes: heron hunt 'events | where user.name == "root" | take 10'.

    The language is Kusto-style (where, project, extend, summarize … by bin(@timestamp, 5m),
    top, sort, take, distinct, join, let, search "text"); see
    docs/reference/hunting-language.md. QUERY '-' reads the query from stdin.
    """
    from heron.query.errors import QueryError

    try:
        if list_fields:
            _print_fields(data_dir, output_format)
            return
        if saved_name:
            query = _saved_query(data_dir, saved_name)
        text = _query_text(query)
        if save_name:
            _save(data_dir, save_name, text, description, schedule, alert, level)
            return
        if explain:
            _explain(text, dialect, data_dir, limit)
            return
        _run(text, data_dir, output_format, out, limit, timeout)
    except QueryError as exc:
        raise click.ClickException(str(exc)) from exc
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc


def _saved_query(data_dir: str, name: str) -> str:
    from heron.query.saved import get_search

    with node_api(data_dir) as node:
        if node is not None:
            saved = {s["name"]: s for s in node.call("GET", "/api/searches")["searches"]}
            query: str | None = saved[name]["query"] if name in saved else None
        else:
            with _open(data_dir, read_only=True) as store:
                found = get_search(store, name)
            query = found.query if found is not None else None
    if query is None:
        raise click.ClickException(f"no saved search named {name!r} (see 'heron searches list')")
    return query


def _save(
    data_dir: str,
    name: str,
    text: str,
    description: str,
    schedule: str | None,
    alert: bool,
    level: str,
) -> None:
    from heron.query.saved import SavedSearch, save_search

    with node_api(data_dir) as node:
        if node is not None:
            body = {
                "name": name,
                "query": text,
                "description": description,
                "schedule": schedule,
                "alert": alert,
                "level": level,
            }
            made = node.call("POST", "/api/searches", json=body)
            _saved_note(SavedSearch(**made), schedule)
            return
    with _open(data_dir, read_only=False) as store:
        saved = save_search(
            store,
            name,
            text,
            now=now_ns(),
            description=description,
            schedule=schedule,
            alert=alert,
            level=level,
        )
    _saved_note(saved, schedule)


def _saved_note(saved: Any, schedule: str | None) -> None:
    when = f", every {schedule}" if saved.schedule else ""
    click.echo(f"saved search {saved.name!r}{when}{', raises alerts' if saved.alert else ''}")


def _explain(text: str, dialect: str, data_dir: str, limit: int) -> None:
    from heron.query.api import explain_sql

    with node_api(data_dir) as node:
        if node is not None:
            body = {"query": text, "dialect": dialect, "limit": limit}
            click.echo(node.call("POST", "/api/hunt/explain", json=body)["sql"])
            return
    # Exactly what runs: typed by the store's catalog when there is a store.
    if Path(data_dir).is_dir() and (Path(data_dir) / "heron.duckdb").exists():
        with _open(data_dir, read_only=True) as store:
            click.echo(explain_sql(store, text, dialect=dialect, limit=limit))
    else:
        click.echo(explain_sql(None, text, dialect=dialect, limit=limit))


def _run(text: str, data_dir: str, fmt: str, out: str | None, limit: int, timeout: float) -> None:
    from heron.query.rows import text_rows
    from heron.query.run import execute

    if fmt == "parquet" and not out:
        raise click.UsageError("--format parquet needs --out FILE")
    with node_api(data_dir) as node:
        if node is not None:
            _run_node(node, text, fmt, out, limit, timeout)
            return
    with _open(data_dir, read_only=True) as store:
        result = execute(store, text, limit=limit or None, timeout=timeout)
    table = result.table
    if fmt == "parquet":
        import pyarrow.parquet as pq

        assert out is not None
        pq.write_table(table, out, compression="zstd")
    else:
        rows = text_rows(table)
        if out:
            with open(out, "w", encoding="utf-8", newline="") as stream:
                _emit(rows, table.column_names, fmt, stream)
        else:
            _emit(rows, table.column_names, fmt, None)
    _note(table.num_rows, result.truncated, limit, fmt, out)


def _note(rows: int, truncated: bool, limit: int, fmt: str, out: str | None) -> None:
    note = f"{rows:,} row{'s' if rows != 1 else ''}"
    if truncated:
        note += f" (stopped at --limit {limit:,}; more matched)"
    if fmt == "table" or out or truncated:
        click.echo(note, err=True)


def _run_node(
    node: NodeApi, text: str, fmt: str, out: str | None, limit: int, timeout: float
) -> None:
    """The hunt run by the node serving the data directory (``POST /api/hunt``): the same
    rows (``text_rows``), as JSON; Parquet needs the Arrow types, so only a load of its own."""
    if fmt == "parquet":
        raise click.ClickException(
            f"a node serves {node.data_dir}: --format parquet is not available through it "
            "(use csv or json, GET /api/export, or stop the node)"
        )
    if not 0 < limit <= MAX_EVENTS_LIMIT or timeout > MAX_HUNT_TIMEOUT_S:
        raise click.ClickException(
            f"a node serves {node.data_dir}: it returns 1 to {MAX_EVENTS_LIMIT:,} rows "
            f"(--limit) within {MAX_HUNT_TIMEOUT_S:.0f} s (--timeout)"
        )
    body = {"query": text, "limit": limit, "timeout": timeout}
    found = node.call("POST", "/api/hunt", json=body)
    columns = [c["name"] for c in found["columns"]]
    rows: list[dict[str, Any]] = found["rows"]
    if out:
        with open(out, "w", encoding="utf-8", newline="") as stream:
            _emit(rows, columns, fmt, stream)
    else:
        _emit(rows, columns, fmt, None)
    _note(len(rows), bool(found["truncated"]), limit, fmt, out)


def _emit(rows: list[dict[str, Any]], columns: list[str], fmt: str, stream: TextIO | None) -> None:
    if fmt == "json":
        target = stream or sys.stdout
        for row in rows:
            target.write(orjson.dumps(row, default=str).decode() + "\n")
        return
    emit_rows(rows, fmt, columns=columns, out=stream)


def _print_fields(data_dir: str, fmt: str) -> None:
    from heron.query.fields import list_fields

    with node_api(data_dir) as node:
        if node is not None:
            rows = node.call("GET", "/api/fields")["fields"]
        else:
            with _open(data_dir, read_only=True) as store:
                fields = list_fields(store)
            rows = [
                {"name": f.name, "type": f.type, "where": f.where, "seen": f.seen} for f in fields
            ]
    _emit(rows, ["name", "type", "where", "seen"], "table" if fmt == "parquet" else fmt, None)


@click.group()
def searches() -> None:
    """Saved searches: list, show, delete (save with 'heron hunt --save NAME QUERY')."""


@searches.command("list")
@format_option("table", "json", "csv")
@data_dir_option
def list_command(output_format: str, data_dir: str) -> None:
    """Every saved search."""
    from heron.query.saved import list_searches

    with node_api(data_dir) as node:
        if node is not None:
            found = node.call("GET", "/api/searches")["searches"]
        else:
            with _open(data_dir, read_only=True) as store:
                found = [s.to_dict() for s in list_searches(store)]
    rows = []
    for row in found:
        for key in ("created", "updated", "last_run"):
            row[key] = format_ns(row[key]) if row[key] else None
        if row["schedule"] is not None:
            from heron.query.rows import format_timespan

            row["schedule"] = format_timespan(row["schedule"])
        rows.append(row)
    columns = ["name", "schedule", "alert", "level", "last_run", "last_rows", "query"]
    _emit(
        rows,
        columns if output_format != "json" else list(rows[0]) if rows else [],
        output_format,
        None,
    )


@searches.command("delete")
@click.argument("name")
@data_dir_option
def delete_command(name: str, data_dir: str) -> None:
    """Delete the saved search NAME."""
    from heron.query.saved import delete_search

    with node_api(data_dir) as node:
        if node is not None:
            path = f"/api/searches/{quote(name, safe='')}"
            node.call("DELETE", path, not_found=f"no saved search named {name!r}")
            gone = True
        else:
            with _open(data_dir, read_only=False) as store:
                gone = delete_search(store, name)
    if not gone:
        raise click.ClickException(f"no saved search named {name!r}")
    click.echo(f"deleted saved search {name!r}")
