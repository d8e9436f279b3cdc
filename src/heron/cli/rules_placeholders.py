"""``heron rules placeholders``: the values Sigma rules expand into ``%name%``.

SigmaHQ rules that use the ``expand`` modifier (``Attributes|expand: '%known_cdcs%'``)
name a list only the site knows (its domain controllers, its admin workstations). The
values are kept in the data directory, so every command that loads rules there
(``ingest``, ``serve`` and its workers, ``rules lint|list|backtest``) expands them
the same way; a rule whose placeholder has no values fails to load and says so.

A change is checked as the API checks it: one after which a rule of the node's set
(``--rules``; by default the set the last ``heron serve`` of the data directory ran, else
the built-in pack) that loads now would not load is refused. Changes are audited. A running
``heron serve`` on the data directory applies a change made here within seconds.
"""

from __future__ import annotations

from pathlib import Path

import click

from heron.cli.alerts_common import actor_option, audit
from heron.cli.options import data_dir_option, format_option, node_rules_option
from heron.cli.output import emit_rows
from heron.errors import HeronError

__all__ = ["placeholders"]


@click.group()
def placeholders() -> None:
    """Values of the %name% placeholders that rules expand (the expand modifier)."""


def _change(
    name: str, values: list[str] | None, rule_paths: tuple[Path, ...], data_dir: str, actor: str
) -> None:
    from heron.api.rulebook import RuleBook, RuleUploadError
    from heron.detect.rulestate import node_rule_paths

    # Without --rules: the set `heron serve` runs on this data directory, if any.
    book = RuleBook(Path(data_dir), None, rule_paths or node_rule_paths(Path(data_dir)))
    try:
        book.set_placeholder(name, values)
    except RuleUploadError as exc:
        raise click.ClickException(
            f"refused, nothing changed: a rule that loads now would not ({exc}); "
            "switch it off first ('heron rules disable RULE_ID')"
        ) from exc
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc
    if values is None:
        audit(data_dir, actor, "rule.placeholder.unset", name, {})
    else:
        audit(data_dir, actor, "rule.placeholder.set", name, {"values": len(values)})
        click.echo(f"%{name}%: {len(values)} value(s)", err=True)


@placeholders.command("set")
@click.argument("name")
@click.argument("values", nargs=-1, required=True)
@node_rules_option
@actor_option
@data_dir_option
def set_values(
    name: str, values: tuple[str, ...], rule_paths: tuple[Path, ...], actor: str, data_dir: str
) -> None:
    """Give placeholder NAME (without the percent signs) its VALUES, replacing any before.

    Values are matched as the rule's other values are (``*`` and ``?`` are wildcards).
    """
    _change(name, list(values), rule_paths, data_dir, actor)


@placeholders.command("unset")
@click.argument("name")
@node_rules_option
@actor_option
@data_dir_option
def unset(name: str, rule_paths: tuple[Path, ...], actor: str, data_dir: str) -> None:
    """Remove placeholder NAME (refused while a rule of the node's set expands it)."""
    _change(name, None, rule_paths, data_dir, actor)


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
