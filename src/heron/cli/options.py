"""Options shared by every command."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

__all__ = ["data_dir_option", "format_option"]

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
