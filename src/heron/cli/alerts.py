"""``heron alerts``: the alert queue from the command line.

``heron alerts`` (or ``heron alerts list``) lists alerts, most recently seen first;
``show`` prints one alert and its history; ``update`` triages one or many alerts at
once; ``suppress`` manages suppressions. Reading opens the data directory read-only,
or asks the running ``heron serve`` that holds it (``heron.cli.node``), which then
also makes the updates and suppressions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

import click

from heron.alerts import UNSET, AlertStore, Unset
from heron.alerts.schema import ALERT_TIMESTAMPS
from heron.api.limits import MAX_ALERT_PAGE
from heron.cli.alerts_common import (
    actor_option,
    audit,
    default_actor,
    given_data_dir,
    open_store,
)
from heron.cli.alerts_suppress import suppress
from heron.cli.node import NodeApi, node_api
from heron.cli.options import data_dir_option, format_option
from heron.cli.output import emit_rows, jsonable
from heron.cli.risk import risk
from heron.errors import HeronError
from heron.model.alert import ALERT_STATUSES, DISPOSITIONS, LEVELS
from heron.model.timeutil import format_ns, parse_time

__all__ = ["alerts"]

F = TypeVar("F", bound=Callable[..., Any])

_TABLE_COLUMNS = [
    "last_seen",
    "rule.level",
    "rule.name",
    "count",
    "user.name",
    "host.name",
    "source.ip",
    "status",
    "assignee",
    "alert.id",
]
_ORDERS = ("last_seen", "risk_score", "first_seen")


def _time(value: str | None, option: str) -> int | None:
    if not value:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from exc


def _entity(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    name, sep, wanted = value.partition("=")
    if not sep or not name or not wanted:
        raise click.BadParameter(
            "use FIELD=VALUE (user.name=alice, ip=10.0.0.5)", param_hint="--entity"
        )
    return name.strip(), wanted.strip()


def _list_options(func: F) -> F:
    options = [
        click.option("--limit", type=click.IntRange(min=0), default=100, show_default=True),
        click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many."),
        click.option("--rule", "rule_id", help="Only alerts of this rule id."),
        click.option(
            "--level",
            type=click.Choice(LEVELS, case_sensitive=False),
            help="Only alerts of this level and above.",
        ),
        click.option(
            "--since", help="Only alerts seen since: ISO time or a duration ago (24h, 7d)."
        ),
        click.option("--until", help="Only alerts first seen by then: ISO time or a duration ago."),
        click.option(
            "--status",
            type=click.Choice([*ALERT_STATUSES, "open"]),
            help="Only this status ('open': new or acknowledged).",
        ),
        click.option("--assignee", help="Only alerts assigned to this user."),
        click.option("--unassigned", is_flag=True, help="Only alerts assigned to nobody."),
        click.option(
            "--entity",
            help="Only alerts about this entity: FIELD=VALUE, or KIND=VALUE "
            "(user, host, ip, agent).",
        ),
        click.option("--text", help="Substring of the rule name, rule id or entity values."),
        click.option("--order", type=click.Choice(_ORDERS), default="last_seen", show_default=True),
        format_option("table", "json", "csv"),
        data_dir_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _list(
    *,
    limit: int,
    offset: int,
    rule_id: str | None,
    level: str | None,
    since: str | None,
    until: str | None,
    status: str | None,
    assignee: str | None,
    unassigned: bool,
    entity: str | None,
    text: str | None,
    order: str,
    output_format: str,
    data_dir: str,
) -> None:
    since_ns = _time(since, "--since")
    until_ns = _time(until, "--until")
    statuses = ["new", "acknowledged"] if status == "open" else status
    filters: dict[str, Any] = {
        "rule_id": rule_id,
        "min_level": level,
        "since": since_ns,
        "until": until_ns,
        "status": statuses,
        "assignee": assignee,
        "unassigned": unassigned,
        "entity": _entity(entity),
        "text": text,
    }
    with node_api(given_data_dir(data_dir)) as node:
        if node is not None:
            rows = _list_node(node, limit, offset, order, filters)
        else:
            with open_store(data_dir, write=False) as store:
                try:
                    found = AlertStore(store).list(
                        limit=limit, offset=offset, order=order, **filters
                    )
                except HeronError as exc:
                    raise click.ClickException(str(exc)) from exc
            rows = [a.to_row() for a in found]
    _emit(rows, output_format, title=f"{len(rows)} alerts")


def _list_node(
    node: NodeApi, limit: int, offset: int, order: str, filters: dict[str, Any]
) -> list[dict[str, Any]]:
    """The same page asked of the running node (``GET /api/alerts``, pages of its size)."""
    names = {"min_level": "level"}
    params: list[tuple[str, Any]] = [("order", order)]
    for key, value in filters.items():
        if value is None or value is False:
            continue
        if key == "entity":
            value = ":".join(value)
        for item in value if isinstance(value, list) else [value]:
            params.append((names.get(key, key), item))
    rows: list[dict[str, Any]] = []
    while len(rows) < limit:
        page = min(limit - len(rows), MAX_ALERT_PAGE)
        at = [*params, ("limit", page), ("offset", offset + len(rows))]
        found: list[dict[str, Any]] = node.call("GET", "/api/alerts", params=at)["alerts"]
        rows.extend(found)
        if len(found) < page:
            break
    return rows


def _emit(found: list[dict[str, Any]], output_format: str, *, title: str) -> None:
    rows = [jsonable(row, ALERT_TIMESTAMPS) for row in found]
    if output_format == "table":
        emit_rows(rows, "table", columns=_TABLE_COLUMNS, title=title)
    elif output_format == "csv":
        emit_rows(rows, "csv", columns=[c for c in rows[0] if c != "entities"] if rows else None)
    else:
        emit_rows(rows, output_format)


@click.group(invoke_without_command=True)
@_list_options
@click.pass_context
def alerts(ctx: click.Context, /, **options: Any) -> None:
    """Alerts raised by detection rules: `heron alerts --level high --since 7d`.

    Without a subcommand, lists alerts (as `heron alerts list`).
    """
    if ctx.invoked_subcommand is None:
        _list(**options)


@alerts.command("list")
@_list_options
def list_alerts(**options: Any) -> None:
    """List alerts, most recently seen first (filters combine)."""
    _list(**options)


@alerts.command("show")
@click.argument("alert_id")
@format_option("table", "json")
@data_dir_option
def show(alert_id: str, output_format: str, data_dir: str) -> None:
    """One alert in full, and who changed what on it (its history)."""
    missing = f"no such alert: {alert_id}"
    with node_api(given_data_dir(data_dir)) as node:
        if node is not None:
            detail = node.call("GET", f"/api/alerts/{quote(alert_id, safe='')}", not_found=missing)
            alert, history = detail["alert"], detail["history"]
        else:
            with open_store(data_dir, write=False) as store:
                found = AlertStore(store)
                found_alert = found.get(alert_id)
                if found_alert is None:
                    raise click.ClickException(missing)
                alert = found_alert.to_row()
                history = [c.to_row() for c in found.history(alert_id)]
    row = jsonable(alert, ALERT_TIMESTAMPS)
    changes = [jsonable(c, ("time",)) for c in history]
    if output_format == "json":
        emit_rows([{**row, "history": changes}], "json")
        return
    details = [{"field": k, "value": v} for k, v in row.items() if v not in (None, [], {}, "")]
    emit_rows(details, "table", columns=["field", "value"], title=f"alert {alert_id}")
    history_rows = [
        {
            "time": format_ns(c["time"]),
            "actor": c["actor"],
            "changes": "; ".join(
                f"{k}: {v['from'] or '-'} → {v['to'] or '-'}" for k, v in c["changes"].items()
            ),
            "comment": c["comment"],
        }
        for c in history
    ]
    if history_rows:
        emit_rows(
            history_rows, "table", columns=["time", "actor", "changes", "comment"], title="history"
        )
    else:
        click.echo("no changes yet")


@alerts.command("update")
@click.argument("alert_ids", nargs=-1, required=True)
@click.option("--status", type=click.Choice(ALERT_STATUSES), help="New status.")
@click.option(
    "--disposition",
    type=click.Choice(DISPOSITIONS),
    help="How the alert was judged (needed when closing).",
)
@click.option("--assign", "assign", metavar="USER", help="Assign the alerts to USER.")
@click.option("--unassign", is_flag=True, help="Assign the alerts to nobody.")
@click.option("--comment", help="A note kept in each alert's history.")
@actor_option
@format_option("table", "json")
@data_dir_option
def update(
    alert_ids: tuple[str, ...],
    status: str | None,
    disposition: str | None,
    assign: str | None,
    unassign: bool,
    comment: str | None,
    actor: str,
    output_format: str,
    data_dir: str,
) -> None:
    """Triage alerts: `heron alerts update ID… --status closed --disposition benign`.

    All the alerts change or none does (an unknown id or a change the lifecycle does not
    allow stops the whole update).
    """
    if assign is not None and unassign:
        raise click.UsageError("give --assign USER or --unassign, not both")
    assignee: str | Unset | None = None if unassign else (assign if assign is not None else UNSET)
    with node_api(given_data_dir(data_dir)) as node:
        if node is not None:
            ids = list(alert_ids)
            rows = _update_node(node, ids, actor, status, disposition, assignee, comment)
            _emit(rows, output_format, title=f"{len(rows)} alerts updated")
            return
    with open_store(data_dir, write=True) as store:
        try:
            changed = AlertStore(store).update(
                list(alert_ids),
                actor=actor,
                status=status,
                disposition=disposition,
                assignee=assignee,
                comment=comment,
            )
        except HeronError as exc:
            raise click.ClickException(str(exc)) from exc
    audit(
        data_dir,
        actor,
        "alert.update",
        ",".join(a.id for a in changed),
        {
            "alerts": len(changed),
            "status": status,
            "disposition": disposition,
            "assignee": None if isinstance(assignee, Unset) else (assignee or ""),
            "comment": comment,
        },
    )
    _emit([a.to_row() for a in changed], output_format, title=f"{len(changed)} alerts updated")


def _update_node(
    node: NodeApi,
    alert_ids: list[str],
    actor: str,
    status: str | None,
    disposition: str | None,
    assignee: str | Unset | None,
    comment: str | None,
) -> list[dict[str, Any]]:
    """The update made by the node serving the data directory (``POST /api/alerts/bulk``,
    all or nothing). The node records it, in the history and the audit log, as the
    control socket's caller: ``local:<login>``."""
    if actor != default_actor():
        raise click.ClickException(
            f"a node serves {node.data_dir}: it records changes as local:{default_actor()}, "
            "so --actor cannot be used now (leave it out, or stop the node)"
        )
    body: dict[str, Any] = {"ids": alert_ids}
    for key, value in (("status", status), ("disposition", disposition), ("comment", comment)):
        if value is not None:
            body[key] = value
    if not isinstance(assignee, Unset):
        body["assignee"] = assignee
    changed: list[dict[str, Any]] = node.call("POST", "/api/alerts/bulk", json=body)["alerts"]
    return changed


alerts.add_command(suppress)
alerts.add_command(risk)
