"""``heron alerts suppress``: add, list and remove suppressions."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import click

from heron.alerts import Suppressions
from heron.cli.alerts_common import audit, default_actor, given_data_dir, open_store
from heron.cli.node import NodeApi, node_api
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


def _no_actor(node: NodeApi, actor: str | None) -> None:
    """A node records its caller, ``local:<login>``: another actor cannot be named."""
    if actor is not None:
        raise click.ClickException(
            f"a node serves {node.data_dir}: it records changes as local:{default_actor()}, "
            "so --actor cannot be used now (leave it out, or stop the node)"
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
    with node_api(given_data_dir(data_dir)) as node:
        if node is not None:
            _no_actor(node, actor)
            body: dict[str, Any] = {"field": field, "value": value, "reason": reason}
            if expires_ns is not None:
                # The API takes a duration from now; whole seconds, at least one.
                body["expires_in"] = f"{max(1, (expires_ns - now_ns()) // 10**9)}s"
            if rule_id is not None:
                body["rule_id"] = rule_id
            made_row = node.call("POST", "/api/suppressions", json=body)
            _emit([made_row], output_format, "suppression added")
            return
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
    with node_api(given_data_dir(data_dir)) as node:
        if node is not None:
            params = {"include_expired": "true"} if include_expired else None
            rows = node.call("GET", "/api/suppressions", params=params)["suppressions"]
        else:
            with open_store(data_dir, write=False) as store:
                found = Suppressions(store).list(include_expired=include_expired)
            rows = [s.to_row() for s in found]
    _emit(rows, output_format, f"{len(rows)} suppressions")


@suppress.command("remove")
@click.argument("suppression_id")
@click.option("--actor", default=None, help="Who removes it (default: the OS user).")
@data_dir_option
def remove(suppression_id: str, actor: str | None, data_dir: str) -> None:
    """Stop a suppression (it stays on record as removed)."""
    with node_api(given_data_dir(data_dir)) as node:
        if node is not None:
            _no_actor(node, actor)
            path = f"/api/suppressions/{quote(suppression_id, safe='')}"
            row = node.call("DELETE", path)
            click.echo(
                f"removed suppression {row['suppression.id']} ({row['field']}={row['value']}, "
                f"{row['hits']} hits)"
            )
            return
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
