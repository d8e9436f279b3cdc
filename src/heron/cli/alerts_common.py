"""What the alert commands share: the actor, and opening the store for reading or writing."""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from heron.errors import HeronError

if TYPE_CHECKING:
    from heron.store.duckdb import DuckDBStore

__all__ = ["actor_option", "audit", "default_actor", "given_data_dir", "open_store"]

F = TypeVar("F", bound=Callable[..., Any])


def default_actor() -> str:
    """Who runs the command: the OS user name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or password database
        return "cli"


def actor_option(func: F) -> F:
    return click.option(
        "--actor",
        default=default_actor,
        show_default="the OS user",
        help="Who is making the change (kept in the history).",
    )(func)


def given_data_dir(data_dir: str) -> str:
    """The data directory a subcommand works on: its own ``--data-dir``, else its group's."""
    # `heron alerts --data-dir X show ID`: the group took --data-dir; use it unless the
    # subcommand was given one of its own.
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return data_dir
    source = ctx.get_parameter_source("data_dir")
    if source not in (None, click.core.ParameterSource.DEFAULT):
        return data_dir
    parent = ctx.parent
    while parent is not None:
        if parent.get_parameter_source("data_dir") not in (
            None,
            click.core.ParameterSource.DEFAULT,
        ):
            return str(parent.params["data_dir"])
        parent = parent.parent
    return data_dir


@contextmanager
def open_store(data_dir: str, *, write: bool) -> Iterator[DuckDBStore]:
    """The data directory's store, read-only unless ``write``; errors as click errors."""
    # Imported here: `heron rules disable` shares the actor and the audit, not the store.
    from heron.store.duckdb import DuckDBStore

    data_dir = given_data_dir(data_dir)
    if not Path(data_dir).exists():
        raise click.ClickException(f"no Heron data in {data_dir} (run 'heron ingest' first)")
    try:
        with DuckDBStore(data_dir, read_only=not write) as store:
            yield store
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc


def audit(data_dir: str, actor: str, action: str, target: str, details: dict[str, Any]) -> None:
    """Record an analyst action in the data directory's audit log, as the API and UI do."""
    from heron.audit import AuditLog

    shown = {k: v for k, v in details.items() if v is not None}
    try:
        AuditLog(given_data_dir(data_dir)).append(
            actor, action, target=target[:2000], details=shown, client="cli"
        )
    except HeronError as exc:
        raise click.ClickException(f"the change was made but not audited: {exc}") from exc
