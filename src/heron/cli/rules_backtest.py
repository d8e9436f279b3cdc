"""``heron rules backtest RULE_PATH…``: run rules over stored history (a retro-hunt)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from heron.cli.node import NodeApi, node_api
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
    try:
        start = parse_time(since) if since else None
        end = parse_time(until) if until else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    if not Path(data_dir).exists():
        raise click.ClickException(f"no Heron data in {data_dir} (run 'heron ingest' first)")
    with node_api(data_dir) as node:
        if node is not None:
            found = _through_node(node, rule_paths, start, end, limit, alert)
        else:
            found = _here(data_dir, rule_paths, start, end, limit, alert)
    for error in found["errors"]:
        click.echo(
            f"error: {error['path']} [{error['rule_id'] or '-'}]: {error['reason']}", err=True
        )
    if output_format == "table":
        _summary(found)
    else:
        emit_rows(
            found["detections"],
            output_format,
            columns=None if output_format == "json" else _CSV_COLUMNS,
        )
    stored = found.get("stored")
    if stored is not None:
        click.echo(f"alerts: {stored['created']} created, {stored['grouped']} grouped", err=True)


def _here(
    data_dir: str,
    rule_paths: tuple[Path, ...],
    start: int | None,
    end: int | None,
    limit: int,
    alert: bool,
) -> dict[str, Any]:
    """The backtest on the store, opened here."""
    # Imported here: ``heron --help`` must not pay for the Sigma machinery.
    from heron.alerts.store import AlertStore
    from heron.detect.rulestate import rule_placeholders
    from heron.detect.sigma.cache import default_cache_dir
    from heron.errors import HeronError
    from heron.rules.backtest import backtest, report
    from heron.store.duckdb import DuckDBStore

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
    found = report(result, limit)
    if stored is not None:
        found["stored"] = {"created": stored.created, "grouped": stored.grouped}
    return found


def _through_node(
    node: NodeApi,
    rule_paths: tuple[Path, ...],
    start: int | None,
    end: int | None,
    limit: int,
    alert: bool,
) -> dict[str, Any]:
    """The backtest run by the node serving the data directory: the rule files go to
    ``POST /api/rules/backtest``, named as given here."""
    from heron.detect.sigma.load import find_rule_files

    files, missing = find_rule_files(list(rule_paths))
    rules = []
    for path in files:
        try:
            rules.append({"name": str(path), "text": path.read_text(encoding="utf-8")})
        except (OSError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"cannot read {path}: {exc}") from exc
    body = {"rules": rules, "start": start, "end": end, "limit": limit, "alert": alert}
    found: dict[str, Any] = node.call("POST", "/api/rules/backtest", json=body)
    found["errors"][:0] = [
        {"path": e.path, "rule_id": e.rule_id, "reason": e.reason} for e in missing
    ]
    return found


_CSV_COLUMNS = ["@timestamp", "rule.id", "rule.name", "rule.level", "event.ids", "group"]


def _summary(found: dict[str, Any]) -> None:
    rows = [
        {
            **row,
            "first": format_ns(row["first"]) if row["first"] is not None else "",
            "last": format_ns(row["last"]) if row["last"] is not None else "",
        }
        for row in found["hits"]
    ]
    emit_rows(rows, "table", title=f"{found['total']} detections")
    click.echo(
        f"{found['rules']} rules, {len(rows)} with hits, "
        f"{len(found['errors'])} errors, {found['seconds']:.1f} s"
    )
