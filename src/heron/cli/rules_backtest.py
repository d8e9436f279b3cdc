"""``heron rules backtest RULE_PATH…``: run rules over stored history (a retro-hunt)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from heron.cli.options import data_dir_option, format_option
from heron.cli.output import emit_rows
from heron.model.timeutil import format_ns, parse_time

__all__ = ["rules_backtest"]


@click.command("backtest")
@click.argument("rule_paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--since", default="30d", show_default=True, help="Start: ISO time or a duration ago."
)
@click.option("--until", "until", help="End (exclusive): ISO time or a duration ago.")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    help="Detections printed (json/csv); the summary counts them all.",
)
@click.option("--alert", is_flag=True, help="Also store the detections as alerts.")
@format_option("table", "json", "csv")
@data_dir_option
def rules_backtest(
    rule_paths: tuple[Path, ...],
    since: str,
    until: str | None,
    limit: int,
    alert: bool,
    output_format: str,
    data_dir: str,
) -> None:
    """Run Sigma rules over stored events through SQL: what would they have found?

    Correlation rules replay the matches of their rules in event-time order. Table
    output summarises hits per rule; json and csv list the detections.
    """
    # Imported here: ``heron --help`` must not pay for the Sigma machinery.
    from heron.alerts.store import AlertStore
    from heron.detect.rulestate import rule_placeholders
    from heron.detect.sigma.cache import default_cache_dir
    from heron.errors import HeronError
    from heron.rules.backtest import backtest
    from heron.store.duckdb import DuckDBStore

    try:
        start = parse_time(since) if since else None
        end = parse_time(until) if until else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    if not Path(data_dir).exists():
        raise click.ClickException(f"no Heron data in {data_dir} (run 'heron ingest' first)")
    try:
        with DuckDBStore(data_dir, read_only=not alert) as store:
            result = backtest(
                store,
                list(rule_paths),
                start=start,
                end=end,
                cache_dir=default_cache_dir(data_dir) if alert else None,
                placeholders=rule_placeholders(data_dir),
            )
            stored = AlertStore(store).add(result.detections) if alert else None
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc
    for error in result.errors:
        click.echo(f"error: {error.path} [{error.rule_id or '-'}]: {error.reason}", err=True)
    if output_format == "table":
        _summary(result)
    else:
        emit_rows(
            [_row(d) for d in result.detections[:limit]],
            output_format,
            columns=None if output_format == "json" else _CSV_COLUMNS,
        )
    if stored is not None:
        click.echo(f"alerts: {stored.created} created, {stored.grouped} grouped", err=True)


_CSV_COLUMNS = ["@timestamp", "rule.id", "rule.name", "rule.level", "event.ids", "group"]


def _row(det: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "@timestamp": det.timestamp,
        "rule.id": det.rule_id,
        "rule.name": det.rule_name,
        "rule.level": det.level,
        "event.ids": list(det.event_ids),
    }
    row.update(det.entities)
    if det.group:
        row["group"] = dict(det.group)
    return row


def _summary(result: Any) -> None:
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    alerts: dict[str, int] = {}
    for det in result.detections:
        first.setdefault(det.rule_id, det.timestamp)
        last[det.rule_id] = det.timestamp
        alerts[det.rule_id] = alerts.get(det.rule_id, 0) + 1
    rows = [
        {
            "rule.name": result.names.get(rid, rid),
            "rule.level": result.levels.get(rid, ""),
            "hits": hits,
            "alerts": alerts.get(rid, 0),
            "first": format_ns(first[rid]) if rid in first else "",
            "last": format_ns(last[rid]) if rid in last else "",
            "rule.id": rid,
        }
        for rid, hits in result.hits.most_common()
        if hits
    ]
    emit_rows(rows, "table", title=f"{len(result.detections)} detections")
    click.echo(
        f"{result.rules} rules, {sum(1 for r in rows)} with hits, "
        f"{len(result.errors)} errors, {result.seconds:.1f} s"
    )
