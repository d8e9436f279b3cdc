"""``heron rules``: lint and list Sigma rules (``test`` and ``backtest`` join this group).

Other subcommands are added with ``rules.add_command(...)``; each imports the Sigma
machinery inside its body so that ``heron --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from heron.cli.options import data_dir_option, format_option
from heron.cli.rules_backtest import rules_backtest
from heron.cli.rules_placeholders import placeholders
from heron.cli.rules_switch import disable, enable
from heron.cli.rules_test import rules_test

__all__ = ["rules"]

_LIST_COLUMNS = ["id", "title", "level", "status", "logsource", "tags", "filename", "enabled"]


def _cache_dir(data_dir: str, no_cache: bool) -> Path | None:
    from heron.detect.sigma.cache import default_cache_dir

    return None if no_cache else default_cache_dir(data_dir)


_no_cache_option = click.option(
    "--no-cache", is_flag=True, help="Compile every rule again instead of using the cache."
)


@click.group()
def rules() -> None:
    """Sigma detection rules: lint, list, test, backtest; placeholder values; switching
    rules off and on."""


@rules.command("lint")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--strict", is_flag=True, help="Also fail on warnings (rules that may see no events)."
)
@format_option("table", "json")
@_no_cache_option
@data_dir_option
def lint(
    paths: tuple[Path, ...], strict: bool, output_format: str, no_cache: bool, data_dir: str
) -> None:
    """Name every rule that cannot be compiled, with why; exit 1 if there is one.

    PATH is a rule file or a folder of them (``*.yml``/``*.yaml``, recursively).
    Warnings name rules whose log source Heron cannot route to any event.
    """
    import orjson

    from heron.detect.engine import engine_from_loaded
    from heron.detect.rulestate import rule_placeholders
    from heron.detect.sigma.load import load_rules

    loaded = load_rules(
        list(paths), _cache_dir(data_dir, no_cache), placeholders=rule_placeholders(data_dir)
    )
    # Building the whole detection stage also checks what the correlation engine can run.
    _, errors = engine_from_loaded(loaded)
    warnings = loaded.warnings
    if output_format == "json":
        for kind, items in (("error", errors), ("warning", warnings)):
            for e in items:
                row = {"severity": kind, "path": e.path, "rule.id": e.rule_id, "reason": e.reason}
                click.echo(orjson.dumps(row).decode())
    else:
        for kind, items in (("ERROR", errors), ("WARNING", warnings)):
            for e in items:
                rule = f" [{e.rule_id}]" if e.rule_id else ""
                click.echo(f"{kind} {e.path}{rule}: {e.reason}")
        failed = {(e.path, e.rule_id) for e in errors}
        rules_ok = sum(1 for r in loaded.rules if (r.filename, r.id) not in failed)
        corr_ok = sum(1 for c in loaded.correlations if (c.filename, c.id) not in failed)
        summary = (
            f"{rules_ok} rules and {corr_ok} correlations OK, "
            f"{len(errors)} errors, {len(warnings)} warnings "
            f"({loaded.files} files, {loaded.seconds:.2f}s)"
        )
        click.echo(summary, err=True)
    if errors or (strict and warnings):
        sys.exit(1)


def _rule_rows(engine: Any, disabled: frozenset[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for rule in engine.rules:
        rows.append(
            {
                "id": rule.id,
                "title": rule.title,
                "name": rule.name,
                "kind": "rule",
                "level": rule.level,
                "status": rule.status,
                "logsource": str(rule.logsource),
                "logsource.product": rule.logsource.product,
                "logsource.category": rule.logsource.category,
                "logsource.service": rule.logsource.service,
                "tags": list(rule.tags),
                "author": rule.author,
                "description": rule.description,
                "references": list(rule.references),
                "falsepositives": list(rule.falsepositives),
                "fields": list(rule.fields),
                "alerts": rule.output,
                "filename": rule.filename,
                "enabled": rule.id not in disabled,
            }
        )
    for corr in engine.correlations:
        rows.append(
            {
                "id": corr.id,
                "title": corr.title,
                "name": corr.name,
                "kind": f"correlation:{corr.type}",
                "level": corr.level,
                "status": corr.status,
                "logsource": "",
                "tags": list(corr.tags),
                "rules": list(corr.rules),
                "group_by": list(corr.group_by),
                "timespan": corr.timespan,
                "alerts": True,
                "filename": corr.filename,
                "enabled": corr.id not in disabled,
            }
        )
    return rows


@rules.command("list")
@click.option(
    "--rules",
    "rule_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Rule file or folder (repeatable); default: the built-in rule pack.",
)
@format_option("table", "json", "csv")
@_no_cache_option
@data_dir_option
def list_rules(
    rule_paths: tuple[Path, ...], output_format: str, no_cache: bool, data_dir: str
) -> None:
    """List loaded rules: id, title, level, status, log source, tags, file, whether
    enabled. The rules uploaded through the API are listed too, as the node runs them."""
    from heron.cli.output import emit_rows
    from heron.detect.rulestate import (
        disabled_rule_ids,
        rule_paths_with_uploads,
        rule_placeholders,
    )
    from heron.detect.sigma.engine import SigmaEngine
    from heron.errors import HeronError
    from heron.rules import builtin_rule_paths

    try:
        paths = rule_paths_with_uploads(list(rule_paths) or None, Path(data_dir))
        engine = SigmaEngine.from_paths(
            paths or builtin_rule_paths(),
            _cache_dir(data_dir, no_cache),
            placeholders=rule_placeholders(data_dir),
        )
        rows = _rule_rows(engine, disabled_rule_ids(Path(data_dir)))
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc
    if output_format == "json":
        emit_rows(rows, "json")
    else:
        emit_rows(rows, output_format, columns=_LIST_COLUMNS, title=f"{len(rows)} rules")
    for e in engine.errors:
        rule = f" [{e.rule_id}]" if e.rule_id else ""
        click.echo(f"error: {e.path}{rule}: {e.reason}", err=True)


rules.add_command(rules_test)
rules.add_command(rules_backtest)
rules.add_command(placeholders)
rules.add_command(disable)
rules.add_command(enable)
