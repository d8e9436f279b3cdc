"""``heron rules disable|enable``: switch rules off and on in a data directory.

The same switch as the API's and the web UI's (``<data-dir>/state/rules.json``): every
load of rules there leaves a disabled rule's detections out, and a disabled rule that
fails to load (a placeholder without values, a rule a newer pySigma reads) no longer
stops detection from starting. A running ``heron serve`` on the data directory applies a
change made here within seconds (``rules_poll_seconds``). Each change is audited.
"""

from __future__ import annotations

from pathlib import Path

import click

from heron.cli.alerts_common import actor_option, audit
from heron.cli.options import data_dir_option, node_rules_option
from heron.errors import HeronError

__all__ = ["disable", "enable"]


def _switch(
    rule_ids: tuple[str, ...],
    enabled: bool,
    rule_paths: tuple[Path, ...],
    data_dir: str,
    actor: str,
) -> None:
    from heron.api.rulebook import RuleBook
    from heron.detect.rulestate import node_rule_paths

    # Without --rules: the set `heron serve` runs on this data directory, if any.
    book = RuleBook(Path(data_dir), None, rule_paths or node_rule_paths(Path(data_dir)))
    try:
        known = book.known_ids()
        unknown = [r for r in rule_ids if r not in known]
        if unknown:  # all or none
            raise click.ClickException(
                f"no rule with id {unknown[0]!r} in these rules (--rules names the node's)"
            )
        for rule_id in rule_ids:
            book.set_enabled(rule_id, enabled)
            audit(data_dir, actor, "rule.enable" if enabled else "rule.disable", rule_id, {})
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc
    state = "enabled" if enabled else "disabled"
    click.echo(f"{len(rule_ids)} rule(s) {state}", err=True)


@click.command()
@click.argument("rule_ids", nargs=-1, required=True)
@node_rules_option
@actor_option
@data_dir_option
def disable(
    rule_ids: tuple[str, ...], rule_paths: tuple[Path, ...], actor: str, data_dir: str
) -> None:
    """Switch rules off by id: their detections raise no alert; one that fails to load no
    longer stops detection."""
    _switch(rule_ids, False, rule_paths, data_dir, actor)


@click.command()
@click.argument("rule_ids", nargs=-1, required=True)
@node_rules_option
@actor_option
@data_dir_option
def enable(
    rule_ids: tuple[str, ...], rule_paths: tuple[Path, ...], actor: str, data_dir: str
) -> None:
    """Switch rules back on by id."""
    _switch(rule_ids, True, rule_paths, data_dir, actor)
