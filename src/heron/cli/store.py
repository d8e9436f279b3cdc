"""``heron stats``, ``heron deadletters``, ``heron retention``: look after the store."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from heron.cli.node import node_api
from heron.cli.options import data_dir_option, format_option
from heron.cli.output import emit_rows
from heron.errors import HeronError
from heron.model.timeutil import format_ns, parse_duration
from heron.store.duckdb import DuckDBStore

__all__ = ["deadletters", "retention", "stats"]


def _open(data_dir: str, *, read_only: bool) -> DuckDBStore:
    if not Path(data_dir).exists():
        raise click.ClickException(f"no Heron data in {data_dir} (run 'heron ingest' first)")
    try:
        return DuckDBStore(data_dir, read_only=read_only)
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command()
@format_option("table", "json")
@data_dir_option
def stats(output_format: str, data_dir: str) -> None:
    """What the store holds: events, time span, day partitions, dead letters."""
    with node_api(data_dir) as node:
        if node is not None:
            found = node.call("GET", "/api/stats")
        else:
            with _open(data_dir, read_only=True) as store:
                found = store.stats().to_dict()
    first, last = found["first"], found["last"]
    summary = {
        "events": found["events"],
        "first": format_ns(first) if first is not None else None,
        "last": format_ns(last) if last is not None else None,
        "dead_letters": found["dead_letters"],
        "partitions": len(found["partitions"]),
    }
    if output_format == "json":
        click.echo(orjson.dumps(summary).decode())
        return
    for key, value in summary.items():
        click.echo(f"{key:>13}: {value}")
    emit_rows(found["partitions"], "table", title="partitions")


@click.command()
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True)
@format_option("table", "json", "csv")
@data_dir_option
def deadletters(limit: int, output_format: str, data_dir: str) -> None:
    """Records that could not be ingested, newest first, with the reason."""
    with node_api(data_dir) as node:
        if node is not None:
            found = node.call("GET", "/api/deadletters", params={"limit": limit}) if limit else {}
            letters = found.get("dead_letters", [])
        else:
            with _open(data_dir, read_only=True) as store:
                letters = [d.to_dict() for d in store.dead_letters(limit)]
    rows = [
        {
            **d,
            "received": format_ns(d["received"]),
            "raw": d["raw"] if output_format != "table" else d["raw"][:120],
        }
        for d in letters
    ]
    emit_rows(rows, output_format)


@click.command()
@click.option("--keep", required=True, help="How long to keep events, e.g. 90d or 52w.")
@data_dir_option
def retention(keep: str, data_dir: str) -> None:
    """Delete whole days of events older than --keep; move older days to Parquet."""
    try:
        keep_ns = parse_duration(keep)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--keep") from exc
    with node_api(data_dir) as node:
        if node is not None:
            done = node.call("POST", "/api/retention", json={"keep": keep})
            deleted, moved = done["deleted"], done["moved"]
        else:
            from heron.housekeeping import keep_in_shape

            with _open(data_dir, read_only=False) as store:
                kept = keep_in_shape(store, keep_ns=keep_ns)
            deleted, moved = kept.deleted, kept.moved
    click.echo(f"deleted {deleted:,} events older than {keep}; moved {moved} day(s) to Parquet")
