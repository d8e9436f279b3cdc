"""``heron risk``: the entities (users, hosts, IPs, AI agents) with the most alert risk."""

from __future__ import annotations

import click

from heron.alerts import EntityRisk
from heron.alerts.risk import ENTITY_KIND_NAMES
from heron.cli.alerts_common import open_store
from heron.cli.options import data_dir_option, format_option
from heron.cli.output import emit_rows, jsonable
from heron.model.timeutil import parse_duration, parse_time

__all__ = ["risk"]

_COLUMNS = ["entity.kind", "entity.value", "risk", "alerts", "first_seen", "last_seen"]


@click.command()
@click.option("--kind", type=click.Choice(ENTITY_KIND_NAMES), help="Only this kind of entity.")
@click.option("--limit", type=click.IntRange(min=0), default=20, show_default=True)
@click.option("--at", "at", help="Risk as it was then (ISO time or a duration ago); default now.")
@click.option(
    "--half-life", default="24h", show_default=True, help="How fast risk decays (as configured)."
)
@format_option("table", "json", "csv")
@data_dir_option
def risk(
    kind: str | None, limit: int, at: str | None, half_life: str, output_format: str, data_dir: str
) -> None:
    """Riskiest entities now: every alert adds its risk score to its entities, halving
    every half-life (`heron risk --kind user`)."""
    try:
        at_ns = parse_time(at) if at else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--at") from exc
    try:
        half_life_ns = parse_duration(half_life)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--half-life") from exc
    if half_life_ns <= 0:
        raise click.BadParameter("must be longer than zero", param_hint="--half-life")
    with open_store(data_dir, write=False) as store:
        top = EntityRisk(store, half_life_ns=half_life_ns).top(kind, limit=limit, at_ns=at_ns)
    rows = [jsonable(e.to_row(), ("first_seen", "last_seen")) for e in top]
    emit_rows(
        rows,
        output_format,
        columns=_COLUMNS if output_format != "json" else None,
        title=f"{len(rows)} entities by risk",
    )
