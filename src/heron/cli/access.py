"""``heron users …`` and ``heron tokens …``: accounts and API tokens of a data directory.

They open ``<data-dir>/state/auth.sqlite`` directly (SQLite, WAL), so they work while
``heron serve`` runs. Each change is recorded in the audit log as the local operator
(``cli:<login name>``).
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from heron.cli.options import data_dir_option, format_option

__all__ = ["tokens", "users"]

_ROLES = ("ingest", "read", "analyst", "admin")


@contextmanager
def _stores(data_dir: str) -> Iterator[tuple[Any, Any]]:
    """The auth store (closed on leaving) and the audit log; an ``AuthError`` becomes
    the command's error message."""
    from heron.audit import AuditLog
    from heron.auth import AuthError, AuthStore

    root = Path(data_dir)
    auth = AuthStore(root)
    try:
        yield auth, AuditLog(root)
    except AuthError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        auth.close()


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _times(row: dict[str, Any], *names: str) -> dict[str, Any]:
    from heron.model.timeutil import format_ns

    for name in names:
        if isinstance(row.get(name), int):
            row[name] = format_ns(row[name])
    return row


def _read_password(password_stdin: bool, confirm: bool = True) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=confirm))


@click.group()
def users() -> None:
    """Users who log in to the web UI and the API."""


@users.command("create")
@click.argument("name")
@click.option("--admin", is_flag=True, help="Same as --role admin.")
@click.option("--role", type=click.Choice(_ROLES), default=None, help="Default: read.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@data_dir_option
def create_user(
    name: str, admin: bool, role: str | None, password_stdin: bool, data_dir: str
) -> None:
    """Create user NAME (the password is prompted unless --password-stdin)."""
    if admin and role not in (None, "admin"):
        raise click.UsageError("--admin and --role disagree")
    chosen = "admin" if admin else (role or "read")
    with _stores(data_dir) as (auth, audit):
        auth.create_user(name, _read_password(password_stdin), chosen)
    audit.append(_operator(), "user.create", name, {"role": chosen})
    click.echo(f"created user {name} ({chosen})")


@users.command("list")
@format_option()
@data_dir_option
def list_users(output_format: str, data_dir: str) -> None:
    """Every user and their role."""
    from heron.cli.output import emit_rows

    with _stores(data_dir) as (auth, _):
        rows = [_times(u.to_dict(), "created", "updated") for u in auth.users()]
    emit_rows(rows, output_format, columns=["name", "role", "created", "updated"])


@users.command("delete")
@click.argument("name")
@data_dir_option
def delete_user(name: str, data_dir: str) -> None:
    """Delete user NAME and end their sessions."""
    with _stores(data_dir) as (auth, audit):
        auth.delete_user(name)
    audit.append(_operator(), "user.delete", name)
    click.echo(f"deleted user {name}")


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@data_dir_option
def passwd(name: str, password_stdin: bool, data_dir: str) -> None:
    """Set the password of user NAME (their sessions end)."""
    with _stores(data_dir) as (auth, audit):
        auth.set_password(name, _read_password(password_stdin))
    audit.append(_operator(), "user.update", name, {"changed": ["password"]})
    click.echo(f"password of {name} changed")


@users.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(_ROLES))
@data_dir_option
def set_role(name: str, role: str, data_dir: str) -> None:
    """Give user NAME another role."""
    with _stores(data_dir) as (auth, audit):
        auth.set_role(name, role)
    audit.append(_operator(), "user.update", name, {"changed": ["role"], "role": role})
    click.echo(f"{name} is now {role}")


@click.group()
def tokens() -> None:
    """API tokens with scopes (ingest, read, analyst, admin)."""


@tokens.command("create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(_ROLES),
    help="A scope (repeatable).",
)
@click.option("--expires", default=None, help="Lifetime, e.g. 30d or 12h (default: never).")
@data_dir_option
def create_token(name: str, scopes: tuple[str, ...], expires: str | None, data_dir: str) -> None:
    """Create token NAME and print its secret (shown only this once)."""
    from heron.model.timeutil import now_ns, parse_duration

    expires_ns = None
    if expires:
        try:
            expires_ns = now_ns() + parse_duration(expires)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--expires") from None
    with _stores(data_dir) as (auth, audit):
        secret = auth.create_token(name, scopes, expires_ns, created_by=_operator())
    audit.append(
        _operator(), "token.create", name, {"scopes": sorted(scopes), "expires": expires_ns}
    )
    click.echo(secret)
    click.echo(
        f"token {name} ({', '.join(sorted(set(scopes)))}); the secret is not shown again", err=True
    )


@tokens.command("list")
@format_option()
@data_dir_option
def list_tokens(output_format: str, data_dir: str) -> None:
    """Every token: scopes, expiry, whether revoked (never the secret)."""
    from heron.cli.output import emit_rows

    with _stores(data_dir) as (auth, _):
        rows = [
            _times(t.to_dict(), "created", "expires", "revoked", "last_used") for t in auth.tokens()
        ]
    emit_rows(
        rows,
        output_format,
        columns=["name", "scopes", "active", "created", "expires", "revoked", "last_used"],
    )


@tokens.command("revoke")
@click.argument("name")
@data_dir_option
def revoke_token(name: str, data_dir: str) -> None:
    """Revoke token NAME: it stops working at once."""
    with _stores(data_dir) as (auth, audit):
        auth.revoke_token(name)
    audit.append(_operator(), "token.revoke", name)
    click.echo(f"revoked token {name}")
