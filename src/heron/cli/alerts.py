"""``heron alerts``: list stored alerts, most recently seen first."""

from __future__ import annotations

from pathlib import Path

import click

from heron.alerts.store import AlertStore
from heron.cli.options import data_dir_option, format_option
from heron.cli.output import emit_rows, jsonable
from heron.errors import HeronError
from heron.model.alert import LEVELS
from heron.model.timeutil import parse_time
from heron.store.duckdb import DuckDBStore

__all__ = ["alerts"]

_TIMESTAMPS = ("@timestamp", "first_seen", "last_seen", "created", "updated")
_TABLE_COLUMNS = [
    "last_seen",
    "rule.level",
    "rule.name",
    "count",
    "user.name",
    "host.name",
    "source.ip",
    "status",
    "alert.id",
]


@click.command()
@click.option("--limit", type=click.IntRange(min=0), default=100, show_default=True)
@click.option("--rule", "rule_id", help="Only alerts of this rule id.")
@click.option(
    "--level",
    type=click.Choice(LEVELS, case_sensitive=False),
    help="Only alerts of this level and above.",
)
@click.option("--since", help="Only alerts seen since: ISO time or a duration ago (24h, 7d).")
@click.option(
    "--status", type=click.Choice(["new", "acknowledged", "closed"]), help="Only this status."
)
@format_option("table", "json", "csv")
@data_dir_option
def alerts(
    limit: int,
    rule_id: str | None,
    level: str | None,
    since: str | None,
    status: str | None,
    output_format: str,
    data_dir: str,
) -> None:
    """Alerts raised by detection rules: `heron alerts --level high --since 7d`."""
    try:
        since_ns = parse_time(since) if since else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    if not Path(data_dir).exists():
        raise click.ClickException(f"no Heron data in {data_dir} (run 'heron ingest' first)")
    try:
        with DuckDBStore(data_dir, read_only=True) as store:
            found = AlertStore(store).list(
                limit=limit, rule_id=rule_id, min_level=level, since=since_ns, status=status
            )
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = [jsonable(a.to_row(), _TIMESTAMPS) for a in found]
    if output_format == "table":
        emit_rows(rows, "table", columns=_TABLE_COLUMNS, title=f"{len(rows)} alerts")
    elif output_format == "csv":
        emit_rows(rows, "csv", columns=[c for c in rows[0] if c != "entities"] if rows else None)
    else:
        emit_rows(rows, output_format)
