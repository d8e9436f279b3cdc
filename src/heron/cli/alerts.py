"""``heron alerts``: the alert queue from the command line.

``heron alerts`` (or ``heron alerts list``) lists alerts, most recently seen first;
``show`` prints one alert and its history; ``update`` triages one or many alerts at
once; ``suppress`` manages suppressions. Reading opens the data directory read-only;
changing alerts needs it free (not held by a running ``heron serve``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from heron.alerts import UNSET, AlertStore, Unset
from heron.alerts.schema import ALERT_TIMESTAMPS
from heron.cli.alerts_common import actor_option, audit, open_store
from heron.cli.alerts_suppress import suppress
from heron.cli.options import data_dir_option, format_option
from heron.cli.output import emit_rows, jsonable
from heron.cli.risk import risk
from heron.errors import HeronError
from heron.model.alert import ALERT_STATUSES, DISPOSITIONS, LEVELS, Alert
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
    with open_store(data_dir, write=False) as store:
        try:
            found = AlertStore(store).list(
                limit=limit,
                offset=offset,
                rule_id=rule_id,
                min_level=level,
                since=since_ns,
                until=until_ns,
                status=statuses,
                assignee=assignee,
                unassigned=unassigned,
                entity=_entity(entity),
                text=text,
                order=order,
            )
        except HeronError as exc:
            raise click.ClickException(str(exc)) from exc
    _emit(found, output_format, title=f"{len(found)} alerts")


def _emit(found: list[Alert], output_format: str, *, title: str) -> None:
    rows = [jsonable(a.to_row(), ALERT_TIMESTAMPS) for a in found]
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
    with open_store(data_dir, write=False) as store:
        found = AlertStore(store)
        alert = found.get(alert_id)
        if alert is None:
            raise click.ClickException(f"no such alert: {alert_id}")
        history = found.history(alert_id)
    row = jsonable(alert.to_row(), ALERT_TIMESTAMPS)
    changes = [jsonable(c.to_row(), ("time",)) for c in history]
    if output_format == "json":
        emit_rows([{**row, "history": changes}], "json")
        return
    details = [{"field": k, "value": v} for k, v in row.items() if v not in (None, [], {}, "")]
    emit_rows(details, "table", columns=["field", "value"], title=f"alert {alert_id}")
    history_rows = [
        {
            "time": format_ns(c.time),
            "actor": c.actor,
            "changes": "; ".join(
                f"{k}: {a or '-'} → {b or '-'}" for k, (a, b) in c.changes.items()
            ),
            "comment": c.comment,
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
    _emit(changed, output_format, title=f"{len(changed)} alerts updated")


alerts.add_command(suppress)
alerts.add_command(risk)
