"""``heron assets``: import the asset inventory and the identity directory."""

from __future__ import annotations

import click
import orjson
from rich.console import Console

from heron.cli.node import node_api
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
        with node_api(data_dir) as node:
            if node is not None:
                body = {"kind": chosen, "records": records, "where": location, "replace": replace}
                done = node.call("POST", "/api/assets", json=body)
                stored, refused, ignored = done["stored"], done["refused"], done["ignored_columns"]
            else:
                with DuckDBStore(data_dir) as store:
                    target = (
                        AssetInventory(store) if chosen == "hosts" else IdentityDirectory(store)
                    )
                    summary = target.import_records(records, where=location, replace=replace)
                stored, ignored = summary.stored, summary.ignored_columns
                refused = [str(e) for e in summary.errors]
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc
    for error in refused[:_SHOWN_ERRORS]:
        err.print(f"[yellow]refused:[/] {error}", highlight=False)
    if len(refused) > _SHOWN_ERRORS:
        err.print(f"[yellow]… and {len(refused) - _SHOWN_ERRORS} more refused[/]")
    if as_json:
        click.echo(
            orjson.dumps(
                {
                    "kind": chosen,
                    "stored": stored,
                    "refused": len(refused),
                    "ignored_columns": ignored,
                }
            ).decode()
        )
        return
    err.print(f"{stored:,} {chosen} stored; {len(refused):,} refused")
    if ignored:
        err.print(f"columns not used: {', '.join(ignored)}")


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
    from heron.enrich.asset import stored_records
    from heron.store.duckdb import DuckDBStore

    with node_api(data_dir) as node:
        if node is not None:
            found = node.call("GET", "/api/assets", params={"kind": kind})["records"]
        else:
            try:
                with DuckDBStore(data_dir, read_only=True) as store:
                    found = stored_records(store.connection(), kind)
            except HeronError as exc:
                raise click.ClickException(str(exc)) from exc
    emit_rows(found, output_format, title=f"{len(found)} {kind}")
