"""``heron assets``: import the asset inventory and the identity directory."""

from __future__ import annotations

import click
import orjson
from rich.console import Console

from heron.cli.options import data_dir_option, format_option
from heron.cli.output import emit_rows
from heron.errors import HeronError

__all__ = ["assets"]

_SHOWN_ERRORS = 20


@click.group()
def assets() -> None:
    """Asset inventory and identities: `heron assets load cmdb.csv`."""


@assets.command("load")
@click.argument("location")
@click.option(
    "--kind",
    type=click.Choice(["auto", "hosts", "identities"]),
    default="auto",
    show_default=True,
    help="hosts (asset inventory) or identities (users); auto decides from the columns.",
)
@click.option("--replace", is_flag=True, help="Replace everything stored of this kind.")
@click.option("--strict", is_flag=True, help="Store nothing if any record is refused.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary line.")
@data_dir_option
def load(
    location: str, kind: str, replace: bool, strict: bool, as_json: bool, data_dir: str
) -> None:
    """Import a CSV or JSON file, or an http(s) URL answering JSON (a CMDB or directory API).

    Hosts: name, ip(s), criticality (low|medium|high|critical), owner, business_unit,
    tags, environment, location. Identities: name, email, upn, full_name, aliases,
    roles, id, domain. One transaction: the good records are stored together.
    """
    from heron.enrich.asset import AssetInventory
    from heron.enrich.identity import IdentityDirectory
    from heron.enrich.records import read_records
    from heron.store.duckdb import DuckDBStore

    err = Console(stderr=True)
    try:
        records = read_records(location)
        chosen = _kind(records) if kind == "auto" else kind
        with DuckDBStore(data_dir) as store:
            target = AssetInventory(store) if chosen == "hosts" else IdentityDirectory(store)
            if strict:
                # A dry run first: refuse everything if any record would be refused.
                from heron.enrich.asset import asset_from_record
                from heron.enrich.identity import identity_from_record
                from heron.enrich.records import RecordError

                check = asset_from_record if chosen == "hosts" else identity_from_record
                bad = 0
                for record in records:
                    try:
                        check(record)
                    except RecordError:
                        bad += 1
                if bad:
                    raise click.ClickException(
                        f"{bad} records refused and --strict given; nothing stored"
                    )
            summary = target.import_records(records, where=location, replace=replace)
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc
    for error in summary.errors[:_SHOWN_ERRORS]:
        err.print(f"[yellow]refused:[/] {error}", highlight=False)
    if len(summary.errors) > _SHOWN_ERRORS:
        err.print(f"[yellow]… and {len(summary.errors) - _SHOWN_ERRORS} more refused[/]")
    if as_json:
        click.echo(
            orjson.dumps(
                {
                    "kind": chosen,
                    "stored": summary.stored,
                    "refused": len(summary.errors),
                    "ignored_columns": summary.ignored_columns,
                }
            ).decode()
        )
        return
    err.print(f"{summary.stored:,} {chosen} stored; {len(summary.errors):,} refused")
    if summary.ignored_columns:
        err.print(f"columns not used: {', '.join(summary.ignored_columns)}")


def _kind(records: list[dict[str, object]]) -> str:
    columns = {k for r in records[:100] for k in r}
    person = {"email", "mail", "upn", "username", "user", "aliases", "full_name", "roles"}
    return "identities" if columns & person else "hosts"


@assets.command("list")
@click.option(
    "--kind", type=click.Choice(["hosts", "identities"]), default="hosts", show_default=True
)
@format_option("table", "json", "csv")
@data_dir_option
def list_assets(kind: str, output_format: str, data_dir: str) -> None:
    """Stored assets (or identities)."""
    from heron.store.duckdb import DuckDBStore

    table = "asset_inventory" if kind == "hosts" else "identities"
    try:
        with DuckDBStore(data_dir, read_only=True) as store:
            cur = store.connection()
            exists = cur.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
            ).fetchall()[0][0]
            rows = (
                cur.sql(f"SELECT * EXCLUDE (updated) FROM {table} ORDER BY name").to_arrow_table()
                if exists
                else None
            )
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc
    found = rows.to_pylist() if rows is not None else []
    for row in found:
        row.pop("key", None)
    emit_rows(found, output_format, title=f"{len(found)} {kind}")
