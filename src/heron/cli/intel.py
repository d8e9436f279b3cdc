"""``heron intel``: load, list and expire threat-intelligence indicators; refresh feeds."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson
from rich.console import Console

from heron.cli.node import NodeApi, node_api
from heron.cli.options import data_dir_option, format_option
from heron.cli.output import emit_rows, jsonable
from heron.errors import HeronError
from heron.intel.errors import IndicatorError
from heron.intel.indicator import TYPES
from heron.intel.loaders import FORMATS, LoadOptions, LoadResult, load_path, load_url
from heron.model.timeutil import format_ns, parse_duration, parse_timestamp

if TYPE_CHECKING:
    from heron.intel.feeds import FeedRun
    from heron.intel.loading import Stored

__all__ = ["NodeFeedBook", "intel"]

_SHOWN_ERRORS = 20
_TIMES = ("first_seen", "last_seen", "expires", "created", "updated")
_TABLE_COLUMNS = ["type", "value", "sources", "confidence", "alert", "expires", "tags"]


@click.group()
def intel() -> None:
    """Threat-intelligence indicators: `heron intel load feed.json`, `heron intel list`."""


def _read(
    inputs: tuple[str, ...],
    options: LoadOptions,
    fmt: str,
    taxii: bool,
    user: str | None,
    password_env: str | None,
    timeout: float,
) -> LoadResult:
    from heron.intel.loaders.taxii import fetch_taxii

    combined = LoadResult(", ".join(inputs), fmt)
    password = os.environ.get(password_env) if password_env else None
    if password_env and password is None:
        raise click.ClickException(f"${password_env} is not set")
    for item in inputs:
        if taxii:
            fetched = fetch_taxii(item, options, user=user, password=password, timeout=timeout)
            combined.extend(fetched.result)
        elif item.startswith(("http://", "https://")):
            combined.extend(load_url(item, options, fmt=fmt, timeout=timeout))
        else:
            combined.extend(load_path(Path(item), options, fmt=fmt))
    return combined


def _report_errors(errors: list[IndicatorError], err: Console) -> None:
    for error in errors[:_SHOWN_ERRORS]:
        err.print(f"[yellow]refused:[/] {error}", highlight=False, markup=True)
    if len(errors) > _SHOWN_ERRORS:
        err.print(f"[yellow]… and {len(errors) - _SHOWN_ERRORS:,} more refused[/]")


@intel.command("load")
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="Input format; auto tells STIX bundles, MISP JSON, CSV and plain lists apart.",
)
@click.option("--source", help="Feed name recorded on each indicator (default: file name).")
@click.option("--confidence", type=click.IntRange(0, 100), help="Confidence when not given.")
@click.option("--no-alert", is_flag=True, help="Matches enrich events but raise no alerts.")
@click.option("--ttl", help="Expiry for indicators without one, e.g. 30d.")
@click.option("--tag", "tags", multiple=True, help="Tag added to every indicator (repeatable).")
@click.option(
    "--retro-days",
    type=click.IntRange(min=0),
    default=30,
    show_default=True,
    help="Match new indicators against this many days of stored events (0: skip).",
)
@click.option("--strict", is_flag=True, help="Load nothing if any indicator is refused.")
@click.option("--taxii", is_flag=True, help="INPUTS are TAXII 2.1 collection URLs.")
@click.option("--user", help="TAXII user name.")
@click.option("--password-env", help="Environment variable holding the TAXII password.")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="HTTP timeout (s).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary line.")
@data_dir_option
def load(
    inputs: tuple[str, ...],
    fmt: str,
    source: str | None,
    confidence: int | None,
    no_alert: bool,
    ttl: str | None,
    tags: tuple[str, ...],
    retro_days: int,
    strict: bool,
    taxii: bool,
    user: str | None,
    password_env: str | None,
    timeout: float,
    as_json: bool,
    data_dir: str,
) -> None:
    """Load indicators from files, folders (MISP feeds), URLs or TAXII collections.

    Everything given is loaded in one transaction: if an input cannot be read at all,
    nothing is loaded. Single bad indicators are refused with a reason and the rest
    load (unless --strict). New indicators are then matched against stored events.
    """
    from heron.alerts.store import AlertStore
    from heron.intel.loading import store_indicators
    from heron.store.duckdb import DuckDBStore

    err = Console(stderr=True)
    started = time.perf_counter()
    try:
        ttl_ns = parse_duration(ttl) if ttl else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--ttl") from exc
    options = LoadOptions(
        source=source, confidence=confidence, alert=not no_alert, ttl=ttl_ns, tags=tags
    )
    try:
        result = _read(inputs, options, fmt, taxii, user, password_env, timeout)
    except HeronError as exc:
        raise click.ClickException(f"{exc}; nothing loaded") from exc
    _report_errors(result.errors, err)
    if strict and result.errors:
        raise click.ClickException(
            f"{len(result.errors):,} indicators refused and --strict given; nothing loaded"
        )
    with node_api(data_dir) as node:
        if node is not None:
            done = _load_through_node(node, result, retro_days)
        else:
            try:
                with DuckDBStore(data_dir) as store:
                    done = store_indicators(
                        store,
                        result.to_table(),
                        result.revoked,
                        retro_days=retro_days,
                        alerts=AlertStore(store),
                    ).to_dict()
            except HeronError as exc:
                raise click.ClickException(str(exc)) from exc
    seconds = time.perf_counter() - started
    report = {
        "received": done["received"],
        "added": done["added"],
        "updated": done["updated"],
        "refused": len(result.errors),
        "revoked": done["revoked"],
        "retro_hits": done["retro_hits"],
        "alerts": done["alerts"],
        "seconds": round(seconds, 3),
    }
    if as_json:
        click.echo(orjson.dumps(report).decode())
        return
    err.print(
        f"{report['received']:,} indicators loaded ({report['added']:,} new, "
        f"{report['updated']:,} updated) in {seconds:.2f} s; {len(result.errors):,} refused"
        + (f"; {report['revoked']:,} revoked" if report["revoked"] else "")
    )
    if retro_days:
        err.print(
            f"retro-match over {retro_days} days: {report['retro_hits']:,} past hits"
            + (f" → {report['alerts']:,} alerts ('heron alerts')" if report["retro_hits"] else "")
        )


def _load_through_node(node: NodeApi, result: LoadResult, retro_days: int) -> dict[str, int]:
    """The indicators read here, stored by the node serving the data directory in one
    transaction (``POST /api/intel/load`` on its control socket), as an Arrow stream."""
    import pyarrow as pa

    from heron.api.routes_intel import REVOKED_COLUMN
    from heron.intel.store import indicators_to_arrow

    kept = result.to_table()
    gone = indicators_to_arrow(result.revoked)
    table = pa.concat_tables(
        [
            kept.append_column(REVOKED_COLUMN, pa.array([False] * kept.num_rows, pa.bool_())),
            gone.append_column(REVOKED_COLUMN, pa.array([True] * gone.num_rows, pa.bool_())),
        ]
    )
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    done: dict[str, int] = node.call(
        "POST",
        "/api/intel/load",
        params={"retro_days": retro_days},
        content=sink.getvalue().to_pybytes(),
    )
    return done


@intel.command("list")
@click.option("--type", "kind", type=click.Choice(TYPES), help="Only indicators of this type.")
@click.option("--source", help="Only indicators from this source.")
@click.option("--value", help="Only values like this (* wildcards).")
@click.option("--include-expired", is_flag=True, help="Also indicators past their expiry.")
@click.option("--limit", type=click.IntRange(min=0), default=100, show_default=True)
@format_option("table", "json", "csv")
@data_dir_option
def list_indicators(
    kind: str | None,
    source: str | None,
    value: str | None,
    include_expired: bool,
    limit: int,
    output_format: str,
    data_dir: str,
) -> None:
    """Stored indicators, most recently updated first."""
    from heron.intel.store import IntelStore
    from heron.store.duckdb import DuckDBStore

    if not Path(data_dir).exists():
        raise click.ClickException(f"no Heron data in {data_dir} (run 'heron intel load' first)")
    filters = {"type": kind, "source": source, "value": value}
    with node_api(data_dir) as node:
        if node is not None:
            params = {k: v for k, v in filters.items() if v is not None}
            if include_expired:
                params["include_expired"] = "true"
            rows = (
                node.call("GET", "/api/intel", params={**params, "limit": limit})["indicators"]
                if limit
                else []
            )
        else:
            try:
                with DuckDBStore(data_dir, read_only=True) as store:
                    rows = IntelStore(store, read_only=True).list(
                        **filters, include_expired=include_expired, limit=limit
                    )
            except HeronError as exc:
                raise click.ClickException(str(exc)) from exc
    shown = [jsonable(r, _TIMES) for r in rows]
    columns = _TABLE_COLUMNS if output_format == "table" else None
    emit_rows(shown, output_format, columns=columns, title=f"{len(shown)} indicators")


@intel.command("expire")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line.")
@data_dir_option
def expire(as_json: bool, data_dir: str) -> None:
    """Delete indicators whose expiry has passed."""
    from heron.intel.store import IntelStore
    from heron.store.duckdb import DuckDBStore

    with node_api(data_dir) as node:
        if node is not None:
            done = node.call("POST", "/api/intel/expire")
            removed, left = done["expired"], done["remaining"]
        else:
            try:
                with DuckDBStore(data_dir) as store:
                    intel_store = IntelStore(store)
                    removed = intel_store.expire()
                    left = intel_store.count()
            except HeronError as exc:
                raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(orjson.dumps({"expired": removed, "remaining": left}).decode())
    else:
        Console(stderr=True).print(f"{removed:,} expired indicators removed; {left:,} remain")


@intel.command("refresh")
@click.option(
    "--feeds",
    "feeds_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML file of feeds (name, type taxii|url|file, url/path, interval …).",
)
@click.option("--force", is_flag=True, help="Refresh every feed, due or not.")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per feed run.")
@data_dir_option
def refresh(feeds_path: Path, force: bool, as_json: bool, data_dir: str) -> None:
    """Refresh the feeds whose interval has passed (run it from cron, or by hand).

    The feeds are fetched here, with this command's configuration and credentials; a
    node serving the data directory stores what they give.
    """
    from heron.alerts.store import AlertStore
    from heron.intel.feeds import FeedScheduler, StoreFeedBook, load_feeds
    from heron.store.duckdb import DuckDBStore

    try:
        feeds = load_feeds(feeds_path)
        with node_api(data_dir) as node:
            if node is not None:
                runs = FeedScheduler(NodeFeedBook(node), feeds).run_due(force=force)
            else:
                with DuckDBStore(data_dir) as store:
                    book = StoreFeedBook(store, alerts=AlertStore(store))
                    runs = FeedScheduler(book, feeds).run_due(force=force)
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc
    err = Console(stderr=True)
    for run in runs:
        if as_json:
            click.echo(orjson.dumps(asdict(run)).decode())
        elif run.ok:
            err.print(
                f"{run.name}: {run.received:,} indicators ({run.added:,} new), "
                f"{run.refused:,} refused, {run.retro_hits:,} past hits, {run.seconds:.2f} s"
            )
        else:
            err.print(f"[red]{run.name}: failed:[/] {run.error}", highlight=False)
    if not runs and not as_json:
        err.print("no feed is due")
    if any(not r.ok for r in runs):
        sys.exit(1)


class NodeFeedBook:
    """The feeds' indicators and runs, stored by the node serving the data directory."""

    def __init__(self, node: NodeApi) -> None:
        self.node = node

    def state(self) -> dict[str, dict[str, Any]]:
        rows = self.node.call("GET", "/api/intel/feeds")["feeds"]
        return {row["name"]: _feed_state_ns(row) for row in rows}

    def store(self, result: LoadResult, retro_days: int, now: int) -> Stored:
        from heron.intel.loading import Stored

        try:
            return Stored(**_load_through_node(self.node, result, retro_days))
        except click.ClickException as exc:
            # The node refused this feed's load: a failed run, the other feeds go on.
            raise HeronError(exc.message) from exc

    def record(self, name: str, now: int, run: FeedRun, cursor: int | None) -> None:
        body = {
            "ran_at": format_ns(now),
            "ok": run.ok,
            # The node keeps at most 4,000 characters of an error (a TAXII server's page).
            "error": run.error[:4000] if run.error else None,
            "added": run.added,
            "taxii_cursor": format_ns(cursor) if cursor is not None else None,
        }
        self.node.call("POST", f"/api/intel/feeds/{name}/runs", json=body)


def _feed_state_ns(row: dict[str, Any]) -> dict[str, Any]:
    """A feed's state as the API shows it, with its times back in int ns."""
    from heron.intel.feeds import FEED_TIMES

    out = {k: v for k, v in row.items() if k != "name"}
    for key in FEED_TIMES:
        if out.get(key) is not None:
            out[key] = parse_timestamp(out[key])
    return out
