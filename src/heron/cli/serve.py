"""``heron serve`` (run the collector and HTTP endpoints) and ``heron validate CONFIG``."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

import click

from heron.cli.options import data_dir_option
from heron.errors import HeronError

__all__ = ["serve", "validate"]

_HTTP_ROUTES = {
    "hec": "HEC /services/collector",
    "bulk": "bulk /_bulk",
    "otlp": "OTLP /v1/logs /v1/traces",
}


def _explicit(ctx: click.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source not in (None, click.core.ParameterSource.DEFAULT)


@click.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="heron.yml; without it: HEC, bulk and OTLP over HTTP only.",
)
@click.option(
    "--http-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port of the HTTP listener (default 8080, or the config's).",
)
@click.option("--host", default=None, help="Address of the HTTP listener (default 127.0.0.1).")
@click.option(
    "--rules",
    "rule_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Sigma rule files or folders (repeatable); default: the config's or built-in.",
)
@click.option("--no-detect", is_flag=True, help="Store events without running detection.")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="warning",
    show_default=True,
)
@data_dir_option
@click.pass_context
def serve(
    ctx: click.Context,
    config_path: Path | None,
    http_port: int | None,
    host: str | None,
    rule_paths: tuple[Path, ...],
    no_detect: bool,
    log_level: str,
    data_dir: str,
) -> None:
    """Run a Heron node: the collector (syslog, HEC, Elasticsearch bulk, OTLP, file tail),
    detection, the REST API under /api/ and the web UI under /ui/."""
    from heron.alerts.settings import AlertSettings
    from heron.config import ServeConfig, load_config
    from heron.gctune import tune_for_bulk
    from heron.runtime import open_node
    from heron.server import Listening, run_server
    from heron.sources.tokens import ensure_ingest_token

    logging.basicConfig(
        level=log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        config = load_config(config_path) if config_path else ServeConfig.default()
        http = config.http.model_copy(
            update={k: v for k, v in (("port", http_port), ("host", host)) if v is not None}
        )
        config = config.model_copy(update={"http": http})
        if config.data_dir is not None and not _explicit(ctx, "data_dir"):
            root = config.data_dir
        else:
            root = Path(data_dir)
        from heron.collector import check_config

        problems = check_config(config)
        if problems:
            for problem in problems:
                click.echo(f"error: {problem}", err=True)
            raise SystemExit(1)
        root.mkdir(parents=True, exist_ok=True)
        tokens = config.ingest_tokens()
        if not tokens:
            token, created = ensure_ingest_token(root)
            tokens = [token]
            if created:
                click.echo(
                    f"Ingest token (created now, kept in {root / 'secrets'}; "
                    f"shown only this once): {token}"
                )
        rules = list(rule_paths) or config.rules
        detect = config.detect and not no_detect
        alert_settings = AlertSettings.from_mapping(config.alerts)
        with open_node(
            root, rule_paths=rules, detect=detect, alert_settings=alert_settings
        ) as node:
            tune_for_bulk()

            def announce(listening: Listening) -> None:
                for name, proto, addr, port in listening.listeners:
                    if name == "http":
                        scheme = "https" if config.http.tls else "http"
                        served = [
                            _HTTP_ROUTES[s.type]
                            for s in config.sources
                            if s.type in _HTTP_ROUTES and getattr(s, "port", 1) is None
                        ]
                        what = ", ".join([*served, "/healthz", "/metrics"])
                        click.echo(f"heron: listening: http {scheme}://{addr}:{port} ({what})")
                    else:
                        click.echo(f"heron: listening: {name} {proto}://{addr}:{port}")
                if listening.setup_token is not None:
                    click.echo(
                        "heron: no users yet; create the first admin with this one-time "
                        f"setup token (valid 24 h): {listening.setup_token} "
                        "(POST /api/setup, the /ui/setup page, or 'heron users create "
                        "NAME --admin')"
                    )
                if listening.control_socket is not None:
                    click.echo(
                        f"heron: local commands (heron ingest, …) reach this node through "
                        f"{listening.control_socket}"
                    )
                click.echo(
                    f"heron: serving {root} (pid {os.getpid()}); Ctrl+C stops after "
                    "committing what is queued"
                )
                sys.stdout.flush()

            _run(run_server(node, config, tokens, on_ready=announce))
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot start: {exc}") from exc
    click.echo("heron: stopped; everything queued was committed")


def _run(main: object) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)  # type: ignore[arg-type]
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)  # type: ignore[arg-type]


@click.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(path_type=Path, dir_okay=False))
@data_dir_option
def validate(config_path: Path, data_dir: str) -> None:
    """Check a heron.yml: unknown keys, port clashes, certificates, formats, rule paths."""
    from heron.collector import build_sources, check_config
    from heron.config import load_config

    try:
        config = load_config(config_path)
    except HeronError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    problems = check_config(config)
    if problems:
        for problem in problems:
            click.echo(f"error: {config_path}: {problem}", err=True)
        raise SystemExit(1)
    names = [s.name for s in build_sources(config, config.ingest_tokens())]
    click.echo(f"{config_path}: OK ({len(names)} sources: {', '.join(names) or 'none'})")
