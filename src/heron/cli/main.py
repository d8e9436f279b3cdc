"""The ``heron`` command group."""

from __future__ import annotations

import importlib

import click

from heron import __version__

__all__ = ["main"]

# Each command's module is imported when that command runs: `heron ingest` need not
# load STIX, the web UI or the simulator, and their imports cost a second of start-up.
_COMMANDS = {
    "ingest": "heron.cli.ingest:ingest",
    "search": "heron.cli.search:search",
    "stats": "heron.cli.store:stats",
    "deadletters": "heron.cli.store:deadletters",
    "retention": "heron.cli.store:retention",
    "alerts": "heron.cli.alerts:alerts",
    "risk": "heron.cli.risk:risk",
    "rules": "heron.cli.rules:rules",
    "serve": "heron.cli.serve:serve",
    "validate": "heron.cli.serve:validate",
    "intel": "heron.cli.intel:intel",
    "assets": "heron.cli.assets:assets",
    "hunt": "heron.cli.hunt:hunt",
    "searches": "heron.cli.hunt:searches",
    "simulate": "heron.cli.simulate:simulate",
    "demo": "heron.cli.demo:demo",
    "users": "heron.cli.access:users",
    "tokens": "heron.cli.access:tokens",
    "audit": "heron.cli.audit:audit",
}


class _LazyGroup(click.Group):
    """A command group that imports a subcommand's module only when it is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="heron")
def main() -> None:
    """Heron: collect, normalize, detect and hunt security events."""
