"""Options shared by every command."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = ["data_dir_option", "format_option", "node_rules_option"]

F = TypeVar("F", bound=Callable[..., Any])


def data_dir_option(func: F) -> F:
    """``--data-dir DIR`` (default ``./heron-data``, or ``HERON_DATA_DIR``)."""
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False),
        default="./heron-data",
        envvar="HERON_DATA_DIR",
        show_default=True,
        help="Where Heron keeps its data.",
    )(func)


def format_option(*choices: str, default: str = "table") -> Callable[[F], F]:
    """``--format`` with the given choices (table, json, csv, …)."""
    names = choices or ("table", "json", "csv")

    def wrap(func: F) -> F:
        return click.option(
            "--format",
            "output_format",
            type=click.Choice(names),
            default=default,
            show_default=True,
            help="Output format; json prints one object a line with flat dotted keys.",
        )(func)

    return wrap


def node_rules_option(func: F) -> F:
    """``--rules PATH`` (repeatable): the rule set a change is checked against."""
    return click.option(
        "--rules",
        "rule_paths",
        multiple=True,
        type=click.Path(exists=True, path_type=Path),
        help="The rule files or folders the node runs (repeatable); default: those the "
        "last `heron serve` of the data directory ran, else the built-in pack.",
    )(func)
