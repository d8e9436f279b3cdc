"""``heron audit verify`` and ``heron audit list``: the hash-chained audit trail."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import click

from heron.cli.options import data_dir_option, format_option

__all__ = ["audit"]


@click.group()
def audit() -> None:
    """The audit trail of analyst actions (hash-chained, append-only)."""


@audit.command("verify")
@format_option("table", "json", default="table")
@data_dir_option
def verify(output_format: str, data_dir: str) -> None:
    """Check every record's hash and the chain; exit 1 naming the first bad record."""
    import orjson

    from heron.audit import AuditLog

    result = AuditLog(data_dir).verify()
    if output_format == "json":
        click.echo(orjson.dumps(result.to_dict()).decode())
    elif result.ok:
        click.echo(f"audit log OK: {result.records} records; head {result.head}")
    else:
        where = f"record {result.bad_seq}" if result.bad_seq is not None else "a record"
        line = f" (line {result.bad_line})" if result.bad_line is not None else ""
        click.echo(
            f"audit log BROKEN at {where}{line}: {result.reason}; "
            f"{result.records} records before it are intact",
            err=True,
        )
    if not result.ok:
        sys.exit(1)


@audit.command("list")
@click.option("--action", default=None, help="Only this action (e.g. alert.update).")
@click.option("--actor", default=None, help="Only this actor.")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True, help="Newest N.")
@format_option()
@data_dir_option
def list_records(
    action: str | None, actor: str | None, limit: int, output_format: str, data_dir: str
) -> None:
    """The newest records, oldest first."""
    from collections import deque

    from heron.audit import AuditError, AuditLog
    from heron.cli.output import emit_rows
    from heron.model.timeutil import format_ns

    def rows() -> Iterator[dict[str, Any]]:
        for record in AuditLog(data_dir).records():
            if (action is None or record.action == action) and (
                actor is None or record.actor == actor
            ):
                row = record.to_dict()
                row["time"] = format_ns(record.time)
                yield row

    try:
        newest = list(deque(rows(), maxlen=limit))
    except AuditError as exc:
        raise click.ClickException(str(exc)) from None
    emit_rows(
        newest,
        output_format,
        columns=["seq", "time", "actor", "action", "target", "client", "details"],
    )
