"""``heron demo``: a fresh node with a simulated company streaming into it."""

from __future__ import annotations

import asyncio
import os
import secrets
import shlex
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from heron.errors import HeronError

if TYPE_CHECKING:
    from heron.runtime import Node

__all__ = ["demo"]


def _fresh_dir(data_dir: Path | None) -> Path:
    if data_dir is None:
        return Path(tempfile.mkdtemp(prefix="heron-demo-"))
    if data_dir.exists() and any(data_dir.iterdir()):
        raise click.ClickException(
            f"{data_dir} is not empty: the demo needs a fresh data directory "
            "(give a new path, or leave --data-dir out for a temporary one)"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    return data_dir


def _create_admin(root: Path) -> tuple[str, str]:
    """An admin user with a random password, printed for the person trying Heron."""
    from heron.auth import AuthStore

    password = secrets.token_urlsafe(12)
    AuthStore(root).create_user("admin", password, "admin")
    return "admin", password


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="A new, empty folder for the demo's data [default: a temporary folder].",
)
@click.option("--http-port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option(
    "--rate", type=float, default=500.0, show_default=True, help="Events a second to send."
)
@click.option("--seed", type=int, default=1, show_default=True)
def demo(data_dir: Path | None, http_port: int, rate: float, seed: int) -> None:
    """Start Heron with a simulated company (attack chains first) streaming in.

    Prints the URL and the credentials; Ctrl+C stops it.
    """
    from heron.cli.serve import _run
    from heron.config import HecSourceConfig, OtlpSourceConfig, ServeConfig, SyslogSourceConfig
    from heron.runtime import open_node
    from heron.server import Listening, run_server
    from heron.simulate import SimulationConfig, simulate
    from heron.simulate.sender import Sender, SendTargets, check_rate

    started = time.monotonic()
    try:
        check_rate(rate)
    except HeronError as exc:
        raise click.BadParameter(str(exc), param_hint="--rate") from exc
    root = _fresh_dir(data_dir)
    token = secrets.token_urlsafe(24)
    syslog_port = _free_port()
    config = ServeConfig(
        tokens=[token],
        sources=[
            # Acknowledged HEC answers once a batch is queued, not committed: the
            # sender keeps its pace and the order of records.
            HecSourceConfig(type="hec", ack=True),
            OtlpSourceConfig(type="otlp"),
            SyslogSourceConfig(
                type="syslog", name="syslog-tcp", protocol="tcp", port=syslog_port,
                framing="octet", format="auto",
            ),
        ],
    )  # fmt: skip
    config = config.model_copy(update={"http": config.http.model_copy(update={"port": http_port})})
    # Yesterday and today up to now, with the attack chains in yesterday's first hour:
    # sent in time order, they arrive within the first seconds.
    now = datetime.now(UTC)
    start = (now - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    sim = simulate(SimulationConfig(days=2, seed=seed, start=start), compact_attacks=True)
    now_ns = int(now.timestamp() * 1e9)
    records = [r for r in sim.records if r.time_ns <= now_ns]
    try:
        credentials = _create_admin(root)
    except HeronError as exc:
        raise click.ClickException(f"cannot create the admin user: {exc}") from exc

    async def main() -> None:
        stop = asyncio.Event()
        ready = asyncio.Event()
        ports: dict[str, int] = {}

        def announce(listening: Listening) -> None:
            for name, _proto, _addr, port in listening.listeners:
                ports[name] = port
            ready.set()

        with open_node(root) as node:
            server = asyncio.create_task(
                run_server(node, config, [token], on_ready=announce, stop=stop)
            )
            waiter = asyncio.create_task(ready.wait())
            await asyncio.wait([server, waiter], return_when=asyncio.FIRST_COMPLETED)
            if server.done():
                waiter.cancel()
                server.result()  # raises what stopped it
                return
            url = f"http://127.0.0.1:{ports['http']}/"
            click.echo(f"heron demo: data in {root}")
            click.echo(f"heron demo: open {url}")
            click.echo(f"heron demo: user {credentials[0]} password {credentials[1]}")
            click.echo(
                f"heron demo: meanwhile 'heron alerts --data-dir {shlex.quote(str(root))}' "
                "(search, hunt, stats, ingest too) asks this node"
            )
            click.echo(
                f"heron demo: streaming {len(records):,} simulated events at {rate:g}/s "
                f"(syslog tcp :{ports.get('syslog-tcp', syslog_port)}, HEC and OTLP on "
                f"{url.rstrip('/')}); Ctrl+C stops"
            )
            sys.stdout.flush()
            targets = SendTargets(
                url.rstrip("/"), "127.0.0.1", syslog_port, token, syslog_source="syslog-tcp"
            )
            sender = asyncio.create_task(Sender(targets, rate).send(records, stop))
            watcher = asyncio.create_task(_first_alert(node, started, stop))
            await asyncio.wait([server, sender], return_when=asyncio.FIRST_COMPLETED)
            if sender.done() and sender.exception() is None:
                stats = sender.result()
                click.echo(
                    f"heron demo: sent {stats.total:,} events in "
                    f"{time.monotonic() - stats.started:.1f} s; still serving, Ctrl+C stops"
                )
                sys.stdout.flush()
            elif sender.done() and not stop.is_set():
                click.echo(f"heron demo: sender stopped: {sender.exception()}", err=True)
            await server
            watcher.cancel()
            sender.cancel()
            # Collects what the sender raised while the server was stopping.
            await asyncio.gather(sender, watcher, return_exceptions=True)

    try:
        _run(main())
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot start: {exc}") from exc
    click.echo("heron demo: stopped")


async def _first_alert(node: Node, started: float, stop: asyncio.Event) -> None:
    """Print when the first alert is stored (the demo's promise is under a minute)."""
    alerts = node.alerts
    if alerts is None:
        return
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        found = await loop.run_in_executor(None, lambda: alerts.list(limit=1))
        if found:
            elapsed = time.monotonic() - started
            click.echo(
                f"heron demo: first alert after {elapsed:.1f} s: {found[0].rule_name} "
                f"(pid {os.getpid()})"
            )
            sys.stdout.flush()
            return
        await asyncio.sleep(0.5)
