"""``heron alerts suppress``: add, list and remove suppressions."""

from __future__ import annotations

from typing import Any

import click

from heron.alerts import Suppressions
from heron.cli.alerts_common import audit, default_actor, open_store
from heron.cli.options import data_dir_option, format_option
from heron.cli.output import emit_rows, jsonable
from heron.errors import HeronError
from heron.model.timeutil import now_ns, parse_duration, parse_timestamp

__all__ = ["suppress"]

_TIMES = ("created", "expires", "last_hit", "removed")
_COLUMNS = [
    "suppression.id",
    "field",
    "value",
    "rule.id",
    "reason",
    "expires",
    "hits",
    "last_hit",
    "actor",
]


def _expiry(value: str | None) -> int | None:
    if value is None or value.strip().lower() == "never":
        return None
    try:
        return now_ns() + parse_duration(value)
    except ValueError:
        pass
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise click.BadParameter(
            "use a duration from now (7d, 12h), an ISO time, or 'never'", param_hint="--expires"
        ) from exc


def _emit(rows: list[dict[str, Any]], output_format: str, title: str) -> None:
    shown = [jsonable(r, _TIMES) for r in rows]
    emit_rows(
        shown, output_format, columns=_COLUMNS if output_format != "json" else None, title=title
    )


@click.group()
def suppress() -> None:
    """Suppressions: detections with FIELD=VALUE raise no alert (until they expire)."""


@suppress.command("add")
@click.argument("field")
@click.argument("value")
@click.option("--reason", required=True, help="Why (kept with the suppression).")
@click.option("--expires", help="A duration from now (7d), an ISO time, or 'never' (default).")
@click.option("--rule", "rule_id", help="Only for this rule id (default: every rule).")
@click.option("--actor", default=None, help="Who adds it (default: the OS user).")
@format_option("table", "json")
@data_dir_option
def add(
    field: str,
    value: str,
    reason: str,
    expires: str | None,
    rule_id: str | None,
    actor: str | None,
    output_format: str,
    data_dir: str,
) -> None:
    """Suppress FIELD=VALUE, e.g. `user.name svc_backup --reason … --expires 7d`."""
    expires_ns = _expiry(expires)
    with open_store(data_dir, write=True) as store:
        try:
            made = Suppressions(store).add(
                field,
                value,
                reason=reason,
                actor=actor or default_actor(),
                expires_ns=expires_ns,
                rule_id=rule_id,
            )
        except HeronError as exc:
            raise click.ClickException(str(exc)) from exc
    audit(
        data_dir,
        made.actor,
        "suppression.add",
        made.id,
        {
            "field": made.field,
            "value": made.value,
            "rule.id": made.rule_id,
            "reason": made.reason,
            "expires": made.expires,
        },
    )
    _emit([made.to_row()], output_format, "suppression added")


@suppress.command("list")
@click.option("--all", "include_expired", is_flag=True, help="Also expired suppressions.")
@format_option("table", "json", "csv")
@data_dir_option
def list_suppressions(include_expired: bool, output_format: str, data_dir: str) -> None:
    """Suppressions in force (with --all, expired ones too), with their hits."""
    with open_store(data_dir, write=False) as store:
        found = Suppressions(store).list(include_expired=include_expired)
    _emit([s.to_row() for s in found], output_format, f"{len(found)} suppressions")


@suppress.command("remove")
@click.argument("suppression_id")
@click.option("--actor", default=None, help="Who removes it (default: the OS user).")
@data_dir_option
def remove(suppression_id: str, actor: str | None, data_dir: str) -> None:
    """Stop a suppression (it stays on record as removed)."""
    with open_store(data_dir, write=True) as store:
        try:
            gone = Suppressions(store).remove(suppression_id, actor or default_actor())
        except HeronError as exc:
            raise click.ClickException(str(exc)) from exc
    audit(
        data_dir,
        gone.removed_by or "cli",
        "suppression.remove",
        gone.id,
        {"field": gone.field, "value": gone.value, "hits": gone.hits},
    )
    click.echo(f"removed suppression {gone.id} ({gone.field}={gone.value}, {gone.hits} hits)")
