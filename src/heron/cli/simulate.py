"""``heron simulate``: a labelled simulated company as files, a replay, a live stream, a score."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from heron.cli.node import NodeApi, node_api
from heron.cli.options import data_dir_option
from heron.errors import HeronError

if TYPE_CHECKING:
    from heron.simulate.score import Score

__all__ = ["simulate"]

#: Bytes of markers in one request to the node (its API bodies stop at 1 MiB).
_MARKER_BATCH_BYTES = 512 * 1024


def _start(text: str | None) -> datetime:
    if text is None:
        return datetime(2026, 3, 2, tzinfo=UTC)
    try:
        day = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"use a date like 2026-03-02, not {text!r}") from None
    return day if day.tzinfo else day.replace(tzinfo=UTC)


def _config(days: int, seed: int, users: int, hosts: int, start: str | None, scale: float):  # type: ignore[no-untyped-def]
    from heron.simulate import SimulationConfig

    return SimulationConfig(
        days=days, seed=seed, users=users, hosts=hosts, start=_start(start), scale=scale
    )


@click.group(invoke_without_command=True)
@click.option("--days", type=int, default=7, show_default=True, help="Simulated days.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option("--users", type=int, default=25, show_default=True, help="Employees.")
@click.option("--hosts", type=int, default=25, show_default=True, help="Windows workstations.")
@click.option("--start", default=None, help="First day (UTC date) [default: 2026-03-02].")
@click.option(
    "--scale", type=float, default=1.0, show_default=True, help="Benign volume multiplier."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write one file per source and labels.json here.",
)
@click.pass_context
def simulate(
    ctx: click.Context,
    days: int,
    seed: int,
    users: int,
    hosts: int,
    start: str | None,
    scale: float,
    out: Path | None,
) -> None:
    """Simulate a small company with labelled attack chains (files, replay, stream, score).

    `heron simulate --days 7 --seed 1 --out DIR` writes the telemetry and DIR/labels.json.
    """
    ctx.ensure_object(dict)
    ctx.obj["simulate"] = (days, seed, users, hosts, start, scale)
    if ctx.invoked_subcommand is not None:
        return
    if out is None:
        raise click.UsageError("give --out DIR (or a subcommand: score, replay, send)")
    from heron.simulate import simulate as run
    from heron.simulate import write_files

    try:
        sim = run(_config(days, seed, users, hosts, start, scale))
        counts = write_files(sim, out)
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from exc
    for name, count in counts.items():
        click.echo(f"{count:>8,}  {out / name}")
    chains = sum(1 for r in sim.records if r.chain)
    click.echo(
        f"{len(sim.records):>8,}  events ({chains} in attack chains); labels: {out / 'labels.json'}"
    )


@simulate.command()
@click.argument("labels", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
@data_dir_option
def score(labels: Path, output_format: str, data_dir: str) -> None:
    """Precision and recall of the stored alerts against LABELS (a labels.json)."""
    from heron.simulate.score import score_data_dir

    try:
        with node_api(data_dir) as node:
            if node is not None:
                result = _score_through_node(node, labels)
            else:
                result = score_data_dir(Path(data_dir), labels)
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc
    if output_format == "json":
        click.echo(orjson.dumps(result.to_dict()).decode())
        return
    from heron.simulate.report import print_score

    print_score(result)


@simulate.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@data_dir_option
def replay(paths: tuple[Path, ...], data_dir: str) -> None:
    """Ingest a simulation's files merged in event-time order (correlations see one stream)."""
    from heron.pipeline import Pipeline
    from heron.runtime import open_node
    from heron.simulate.replay import replay_files

    try:
        with open_node(Path(data_dir)) as node:
            pipeline = Pipeline(
                node.store, detector=node.detector, alerts=node.alerts, enrichers=node.enrichers
            )
            summary = replay_files(list(paths), pipeline)
            summary.detections += node.finish_ingest()
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"replayed {summary.events:,} events from {summary.files} files "
        f"({summary.failed} dead letters, {summary.detections} detections)"
    )
    sys.stdout.flush()


@simulate.command()
@click.option(
    "--url",
    default="http://127.0.0.1:8080",
    show_default=True,
    help="Heron's HTTP listener (HEC and OTLP).",
)
@click.option(
    "--syslog",
    "syslog_addr",
    default="127.0.0.1:514",
    show_default=True,
    help="HOST:PORT of a syslog TCP source.",
)
@click.option("--framing", type=click.Choice(["octet", "lf"]), default="octet", show_default=True)
@click.option(
    "--syslog-source",
    default=None,
    help="The node's name for that syslog source: keeps records in time order across protocols.",
)
@click.option(
    "--token",
    envvar="HERON_INGEST_TOKEN",
    required=True,
    help="Ingest token [env HERON_INGEST_TOKEN].",
)
@click.option("--rate", type=float, default=500.0, show_default=True, help="Events a second.")
@click.option("--compact", is_flag=True, help="All attack chains in the first hour.")
@click.pass_context
def send(
    ctx: click.Context,
    url: str,
    syslog_addr: str,
    framing: str,
    syslog_source: str | None,
    token: str,
    rate: float,
    compact: bool,
) -> None:
    """Stream the simulation to a running node over syslog TCP, HEC and OTLP/HTTP."""
    import asyncio

    from heron.simulate import simulate as run
    from heron.simulate.sender import Sender, SendTargets, check_rate

    host, _, port = syslog_addr.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter(f"use HOST:PORT, not {syslog_addr!r}", param_hint="--syslog")
    try:
        check_rate(rate)
        sim = run(_config(*ctx.obj["simulate"]), compact_attacks=compact)
        targets = SendTargets(
            url.rstrip("/"), host, int(port), token,
            octet_counting=framing == "octet", syslog_source=syslog_source,
        )  # fmt: skip
        stats = asyncio.run(Sender(targets, rate).send(sim.records))
    except HeronError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot send: {exc}") from exc
    for source, count in sorted(stats.sent.items()):
        click.echo(f"{count:>8,}  {source}")
    click.echo(f"sent {stats.total:,} events; at worst {stats.lag_s:.1f} s behind the rate")


def _score_through_node(node: NodeApi, labels_path: Path) -> Score:
    """``score_data_dir`` with the node serving the data directory: its events of each
    marker (``POST /api/simulate/markers``), every alert (``GET /api/alerts``)."""
    from heron.api.limits import MAX_ALERT_PAGE
    from heron.api.routes_simulate import MAX_MARKERS
    from heron.model.alert import Alert
    from heron.simulate.score import label_markers, load_labels, score_alerts

    labels = load_labels(labels_path)
    found: dict[str, list[str]] = {}
    batch: list[str] = []
    size = 0
    for marker in [*label_markers(labels), None]:
        # Its length as JSON with every non-ASCII character escaped: the most it takes.
        cost = len(json.dumps(marker)) + 1
        if batch and (
            marker is None or len(batch) >= MAX_MARKERS or size + cost > _MARKER_BATCH_BYTES
        ):
            answer = node.call("POST", "/api/simulate/markers", json={"markers": batch})
            found.update(answer["found"])
            batch, size = [], 0
        if marker is not None:
            batch.append(marker)
            size += cost
    alerts: list[Alert] = []
    while True:
        params: dict[str, Any] = {"limit": MAX_ALERT_PAGE, "offset": len(alerts)}
        page = node.call("GET", "/api/alerts", params=params)
        alerts.extend(Alert.from_row(row) for row in page["alerts"])
        if not page["alerts"] or len(alerts) >= page["total"]:
            return score_alerts(labels, alerts, found)
