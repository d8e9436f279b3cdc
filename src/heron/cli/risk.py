"""``heron risk``: the entities (users, hosts, IPs, AI agents) with the most alert risk."""

from __future__ import annotations

from typing import Any

import click

from heron.alerts import EntityRisk
from heron.alerts.risk import ENTITY_KIND_NAMES
from heron.api.limits import MAX_ENTITIES
from heron.cli.alerts_common import open_store
from heron.cli.node import NodeApi, node_api
from heron.cli.options import data_dir_option, format_option
from heron.cli.output import emit_rows, jsonable
from heron.model.timeutil import format_ns, now_ns, parse_duration, parse_time

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
    with node_api(data_dir) as node:
        if node is not None:
            found = _top_from_node(node, kind, limit, at_ns, half_life)
        else:
            with open_store(data_dir, write=False) as store:
                top = EntityRisk(store, half_life_ns=half_life_ns)
                found = [e.to_row() for e in top.top(kind, limit=limit, at_ns=at_ns)]
    rows = [jsonable(row, ("first_seen", "last_seen")) for row in found]
    emit_rows(
        rows,
        output_format,
        columns=_COLUMNS if output_format != "json" else None,
        title=f"{len(rows)} entities by risk",
    )


def _top_from_node(
    node: NodeApi, kind: str | None, limit: int, at_ns: int | None, half_life: str
) -> list[dict[str, Any]]:
    """The riskiest entities, asked of the running node (``GET /api/entities``)."""
    if limit > MAX_ENTITIES:
        raise click.ClickException(
            f"a node serves {node.data_dir}: it lists at most {MAX_ENTITIES:,} entities "
            "(use a smaller --limit)"
        )
    if limit == 0:
        return []
    # The time is fixed here, as on a store of its own: "2h" means two hours before now.
    params = {"limit": limit, "half_life": half_life, "at": format_ns(at_ns or now_ns())}
    if kind is not None:
        params["kind"] = kind
    rows: list[dict[str, Any]] = node.call("GET", "/api/entities", params=params)["entities"]
    return rows
