"""The collector: sources built from configuration, one intake, one pipeline.

``build_sources`` turns the configuration's ``sources`` into source objects without
starting anything, so ``heron validate`` can ask each for its ports; ``check_config``
lists every problem (port clashes, missing certificates, unknown formats, unusable
rule paths) before a single socket is bound. ``Collector`` owns the running parts.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.routing import BaseRoute

from heron.config import (
    BulkSourceConfig,
    HecSourceConfig,
    OtlpSourceConfig,
    ServeConfig,
    SourceConfig,
    SyslogSourceConfig,
    TailSourceConfig,
    TlsConfig,
    parse_timezone,
)
from heron.errors import ConfigError
from heron.intake import ChunkPool, Intake
from heron.metrics import CollectorMetrics
from heron.parsers import FORMATS, ParseContext, get_parser
from heron.pipeline import Pipeline
from heron.receivelog import ReceiveLog
from heron.runtime import Node, WorkerPool
from heron.sources.base import HttpSource, ListenPort, ServiceSource, SourceRuntime
from heron.sources.bulk import BulkSource
from heron.sources.hec import HecSource
from heron.sources.otlp import OtlpSource
from heron.sources.syslog import SyslogSource
from heron.sources.tail import TailCheckpoints, TailSource
from heron.sources.tls import check_tls_files
from heron.sources.tokens import IngestTokens

__all__ = [
    "Collector",
    "HttpListener",
    "build_sources",
    "check_config",
    "serve_workers",
    "source_name",
]

Source = ServiceSource | HttpSource

log = logging.getLogger(__name__)


def source_name(config: SourceConfig) -> str:
    """The configured name, or one made from the type (and protocol and port for syslog)."""
    if config.name:
        return config.name
    if isinstance(config, SyslogSourceConfig):
        return f"syslog-{config.protocol}-{config.listen_port}"
    return config.type


def build_sources(
    config: ServeConfig, tokens: Sequence[str], data_dir: Path | None = None
) -> list[Source]:
    """Source objects for every configured source; nothing is bound or opened."""
    shared = IngestTokens(tokens)
    checkpoints = TailCheckpoints((data_dir or Path(".")) / "state" / "tail.json")
    sources: list[Source] = []
    for entry in config.sources:
        name = source_name(entry)
        own_tokens: list[str] = getattr(entry, "tokens", None) or []
        own = IngestTokens(own_tokens) if own_tokens else shared
        if isinstance(entry, SyslogSourceConfig):
            sources.append(SyslogSource(entry, name))
        elif isinstance(entry, HecSourceConfig):
            sources.append(HecSource(entry, name, own))
        elif isinstance(entry, BulkSourceConfig):
            sources.append(BulkSource(entry, name, own))
        elif isinstance(entry, OtlpSourceConfig):
            sources.append(OtlpSource(entry, name, own))
        elif isinstance(entry, TailSourceConfig):
            sources.append(TailSource(entry, name, checkpoints))
    return sources


def _overlap(a: ListenPort, b: ListenPort) -> bool:
    if a.protocol != b.protocol or a.port != b.port:
        return False
    if a.host == b.host:
        return True
    try:
        ha, hb = ipaddress.ip_address(a.host), ipaddress.ip_address(b.host)
    except ValueError:
        return False  # host names: cannot tell without resolving them
    # A wildcard address takes the port on every address of its family.
    return ha.version == hb.version and (ha.is_unspecified or hb.is_unspecified)


def _check_format(fmt: str, where: str) -> list[str]:
    if fmt == "auto":
        return []
    if fmt not in FORMATS:
        return [
            f"{where}.format: unknown format {fmt!r} (known: auto, {', '.join(sorted(FORMATS))})"
        ]
    try:
        get_parser(fmt)
    except Exception as exc:
        return [f"{where}.format: the {fmt!r} parser cannot be loaded: {exc}"]
    return []


def check_config(config: ServeConfig) -> list[str]:
    """Every problem found in a configuration, as lines a person can act on."""
    problems: list[str] = []
    sources = build_sources(config, config.ingest_tokens())
    claimed: list[tuple[ListenPort, str]] = []
    if config.http.enabled:
        claimed.append((ListenPort("tcp", config.http.host, config.http.port), "http"))
        if config.http.tls is not None:
            problems += check_tls_files(config.http.tls, "http")
    seen_names: dict[str, int] = {}
    for number, (entry, source) in enumerate(zip(config.sources, sources, strict=True)):
        where = f"sources.{number} ({source.name})"
        if source.name in seen_names:
            problems.append(
                f"{where}: the name {source.name!r} is used twice "
                f"(also sources.{seen_names[source.name]}); set distinct names"
            )
        seen_names.setdefault(source.name, number)
        for port in source.ports():
            for other, owner in claimed:
                if _overlap(port, other):
                    problems.append(
                        f"{where}: {port.protocol} {port.host}:{port.port} is already taken "
                        f"by {owner}"
                    )
            claimed.append((port, f"sources.{number} ({source.name})"))
        tls: TlsConfig | None = getattr(entry, "tls", None)
        if isinstance(entry, SyslogSourceConfig):
            if entry.protocol == "tls" and tls is None:
                problems.append(f"{where}: protocol tls needs a tls section (cert, key)")
            if entry.protocol != "tls" and tls is not None:
                problems.append(f"{where}: tls is only used with protocol: tls")
            if entry.protocol == "udp" and entry.framing != "auto":
                problems.append(f"{where}: framing applies to tcp and tls, not udp")
        elif tls is not None and getattr(entry, "port", None) is None:
            problems.append(f"{where}: tls needs a port of its own (or set http.tls)")
        if tls is not None:
            problems += check_tls_files(tls, where)
        if isinstance(entry, SyslogSourceConfig | TailSourceConfig | HecSourceConfig):
            problems += _check_format(entry.format, where)
        if (
            isinstance(entry, HecSourceConfig | BulkSourceConfig | OtlpSourceConfig)
            and entry.port is None
            and not config.http.enabled
        ):
            problems.append(f"{where}: has no port of its own and http.enabled is false")
    for path in config.rules or []:
        if not path.exists():
            problems.append(f"rules: no such file or folder: {path}")
    if config.intel_feeds is not None:
        from heron.intel.feeds import load_feeds

        try:
            load_feeds(config.intel_feeds)
        except ConfigError as exc:
            problems.append(f"intel_feeds: {exc}")
    if config.limits.batch_events > config.limits.queue_events:
        problems.append("limits.batch_events cannot exceed limits.queue_events")
    return problems


def serve_workers(requested: int | None = None) -> int:
    """Worker processes for ``heron serve``: ``requested``, else ``HERON_WORKERS``, else one
    per core on a machine with more than one (0: everything in the server process)."""
    if requested is not None:
        return max(0, requested)
    configured = os.environ.get("HERON_WORKERS", "").strip()
    if configured:
        try:
            return max(0, int(configured))
        except ValueError:
            raise ConfigError(f"HERON_WORKERS must be a whole number, not {configured!r}") from None
    cores = os.cpu_count() or 1
    return cores if cores > 1 else 0


def _pool_factory(
    node: Node, context: ParseContext, workers: int
) -> Callable[[], ChunkPool] | None:
    if workers <= 0:
        return None

    def start() -> ChunkPool:
        # Parse, normalize, enrich and single-event matching run in the workers; the
        # correlation state, alerts and the store stay in this process.
        return WorkerPool(node.worker_spec(context), workers, node.detector)

    return start


@dataclass(frozen=True, slots=True)
class HttpListener:
    """An HTTP listener and the routes it serves."""

    host: str
    port: int
    tls: TlsConfig | None
    routes: list[BaseRoute]
    names: list[str]  # the sources it serves


class Collector:
    """Sources, the intake and the pipeline of one running ``heron serve``."""

    def __init__(
        self,
        node: Node,
        config: ServeConfig,
        tokens: Sequence[str],
        *,
        workers: int | None = None,
    ) -> None:
        if not tokens and any(
            isinstance(s, HecSourceConfig | BulkSourceConfig | OtlpSourceConfig) and not s.tokens
            for s in config.sources
        ):
            raise ConfigError("HTTP sources need an ingest token (tokens: or HERON_INGEST_TOKEN)")
        self.config = config
        self.metrics = CollectorMetrics()
        context = ParseContext(year=config.year, timezone=parse_timezone(config.timezone))
        self.pipeline = Pipeline(
            node.store,
            detector=node.detector,
            alerts=node.alerts,
            enrichers=node.enrichers,
            context=context,
        )
        limits = config.limits
        # HEC requests are answered once synced here, not once committed.
        self.receive_log = (
            ReceiveLog(node.data_dir / "state" / "receive") if config.receive_log else None
        )
        self.intake = Intake(
            self.pipeline,
            self.metrics,
            max_events=limits.queue_events,
            max_bytes=limits.queue_bytes,
            batch_events=limits.batch_events,
            batch_wait_s=limits.batch_wait_ms / 1000,
            pool_factory=_pool_factory(node, context, serve_workers(workers)),
            receive_log=self.receive_log,
        )
        self.sources = build_sources(config, tokens, node.data_dir)
        self._runtimes = {
            s.name: SourceRuntime(
                self.intake,
                self.metrics.source(s.name, s.type),
                limits.max_line_bytes,
                config.http.max_body_bytes,
                limits.busy_timeout_s,
            )
            for s in self.sources
        }
        self._started: list[ServiceSource] = []
        self.stopping = False

    def runtime(self, name: str) -> SourceRuntime:
        return self._runtimes[name]

    def shared_routes(self) -> list[BaseRoute]:
        """Routes of the HTTP sources served on the shared ``http`` listener."""
        routes: list[BaseRoute] = []
        for source in self.sources:
            if isinstance(source, HecSource | BulkSource | OtlpSource) and not source.ports():
                routes += source.routes(self.runtime(source.name))
        return routes

    def own_listeners(self) -> list[HttpListener]:
        """HTTP sources with a port of their own, grouped by port."""
        listeners: dict[tuple[str, int], HttpListener] = {}
        for source in self.sources:
            if not isinstance(source, HecSource | BulkSource | OtlpSource):
                continue
            for port in source.ports():
                key = (port.host, port.port)
                found = listeners.get(key)
                if found is None:
                    found = listeners[key] = HttpListener(
                        port.host, port.port, source.config.tls, [], []
                    )
                found.routes.extend(source.routes(self.runtime(source.name)))
                found.names.append(source.name)
        return list(listeners.values())

    def formats(self) -> list[str]:
        """The formats the configured sources hand to the pipeline."""
        found: list[str] = []
        for entry in self.config.sources:
            fmt = getattr(entry, "format", "json")
            for name in (fmt, "json") if entry.type in ("hec", "tail") else (fmt,):
                if name not in found:
                    found.append(name)
            if entry.type == "otlp" and "otel_genai" in FORMATS and "otel_genai" not in found:
                found.append("otel_genai")
        return found

    def service_sources(self) -> list[ServiceSource]:
        return [s for s in self.sources if isinstance(s, SyslogSource | TailSource)]

    async def start(self) -> None:
        """Start the pipeline thread, store what the receive log holds past the store's
        receipt (a crash left it answered but not stored), then start every listening
        or tailing source."""
        replay = []
        receive_log = self.receive_log
        if receive_log is not None:
            replay = receive_log.recover(self.pipeline.store.receipt())
            receive_log.start(asyncio.get_running_loop())
            self.metrics.receive_log = lambda: (
                receive_log.synced_records,
                receive_log.sync_failures,
            )
        self.intake.start(self.formats())
        if replay:
            log.warning(
                "receive log: %d requests taken before the last stop were not stored; "
                "storing them now",
                len(replay),
            )
            await self.intake.replay(replay)
        try:
            for source in self.service_sources():
                await source.start(self.runtime(source.name))
                self._started.append(source)
        except BaseException:
            await self.stop()
            raise

    async def stop_sources(self) -> None:
        """Stop listening and tailing; what was handed in still commits."""
        self.stopping = True
        for source in reversed(self._started):
            await source.stop()
        self._started.clear()

    async def stop(self) -> None:
        """Stop the sources, then commit everything still queued."""
        await self.stop_sources()
        await self.intake.close()
        if self.receive_log is not None:
            self.receive_log.close()
