"""The ``heron`` command group."""

from __future__ import annotations

import click

from heron import __version__
from heron.cli.alerts import alerts
from heron.cli.assets import assets
from heron.cli.hunt import hunt, searches
from heron.cli.ingest import ingest
from heron.cli.intel import intel
from heron.cli.rules import rules
from heron.cli.search import search
from heron.cli.serve import serve, validate
from heron.cli.store import deadletters, retention, stats

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="heron")
def main() -> None:
    """Heron: collect, normalize, detect and hunt security events."""


main.add_command(ingest)
main.add_command(search)
main.add_command(stats)
main.add_command(deadletters)
main.add_command(retention)
main.add_command(alerts)
main.add_command(rules)
main.add_command(serve)
main.add_command(validate)
main.add_command(intel)
main.add_command(assets)
main.add_command(hunt)
main.add_command(searches)
