"""``heron rules placeholders``: the values Sigma rules expand into ``%name%``.

SigmaHQ rules that use the ``expand`` modifier (``Attributes|expand: '%known_cdcs%'``)
name a list only the site knows (its domain controllers, its admin workstations). The
values are kept in the data directory, so every command that loads rules there
(``ingest``, ``serve`` and its workers, ``rules lint|list|backtest``) expands them
the same way; a rule whose placeholder has no values fails to load and says so.
"""

from __future__ import annotations

import click

from heron.cli.options import data_dir_option, format_option
from heron.cli.output import emit_rows
from heron.errors import HeronError

__all__ = ["placeholders"]


@click.group()
def placeholders() -> None:
    """Values of the %name% placeholders that rules expand (the expand modifier)."""


@placeholders.command("set")
@click.argument("name")
@click.argument("values", nargs=-1, required=True)
@data_dir_option
def set_values(name: str, values: tuple[str, ...], data_dir: str) -> None:
    """Give placeholder NAME (without the percent signs) its VALUES, replacing any before.

    Values are matched as the rule's other values are (``*`` and ``?`` are wildcards).
    """
    from heron.detect.rulestate import set_rule_placeholder

    try:
        set_rule_placeholder(data_dir, name, list(values))
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"%{name}%: {len(values)} value(s)", err=True)


@placeholders.command("unset")
@click.argument("name")
@data_dir_option
def unset(name: str, data_dir: str) -> None:
    """Remove placeholder NAME: rules that expand it fail to load until it is set again."""
    from heron.detect.rulestate import rule_placeholders, set_rule_placeholder

    try:
        if name not in rule_placeholders(data_dir):
            raise click.ClickException(f"no placeholder {name!r} is set")
        set_rule_placeholder(data_dir, name, None)
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc


@placeholders.command("list")
@format_option("table", "json", "csv")
@data_dir_option
def list_values(output_format: str, data_dir: str) -> None:
    """The placeholders that have values, one row each."""
    from heron.detect.rulestate import rule_placeholders

    try:
        found = rule_placeholders(data_dir)
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = [{"name": name, "values": values} for name, values in sorted(found.items())]
    emit_rows(rows, output_format, columns=["name", "values"], title=f"{len(rows)} placeholders")
