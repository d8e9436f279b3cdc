"""The ``heron serve`` configuration file (``heron.yml``): typed models, loading, checks.

Every mapping refuses unknown keys, so a misspelt option is an error at ``heron
validate`` time rather than a silently ignored setting. Each source entry is chosen by
its ``type`` (``syslog``, ``hec``, ``bulk``, ``otlp``, ``tail``), the name of the module in
``heron.sources`` that runs it. Listeners bind to loopback unless a host is given.
"""

from __future__ import annotations

import os
from datetime import UTC, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from heron.errors import ConfigError

__all__ = [
    "DEFAULT_HTTP_PORT",
    "BulkSourceConfig",
    "HecSourceConfig",
    "HttpConfig",
    "LimitsConfig",
    "OtlpSourceConfig",
    "ServeConfig",
    "SourceConfig",
    "SyslogSourceConfig",
    "TailSourceConfig",
    "TlsConfig",
    "load_config",
    "parse_timezone",
]

DEFAULT_HTTP_PORT = 8080
LOOPBACK = "127.0.0.1"

Port = Annotated[int, Field(ge=1, le=65535)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsConfig(_Model):
    """A server certificate, its key and optionally the CA that client certificates need."""

    cert: Path
    key: Path
    ca: Path | None = None
    # With a CA: refuse clients without a certificate that CA signed (mutual TLS).
    require_client_cert: bool = False


class HttpConfig(_Model):
    """The HTTP listener shared by HEC, bulk, OTLP, ``/healthz`` and ``/metrics``."""

    enabled: bool = True
    host: str = LOOPBACK
    port: Port = DEFAULT_HTTP_PORT
    # Elasticsearch's http.max_content_length is 100mb; bigger bodies get 413.
    max_body_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    # A file sent to ``POST /api/ingest`` (``heron ingest`` while the node runs) is
    # spooled to disk, not held in memory: this bounds the disk it may take.
    max_upload_bytes: int = Field(default=4 * 1024**3, ge=1024)
    # Connections and requests served at once; more get 503 (memory stays bounded).
    max_connections: int = Field(default=1024, ge=1)
    tls: TlsConfig | None = None


class LimitsConfig(_Model):
    """Memory bounds: what a line may weigh and how much may wait for the pipeline."""

    max_line_bytes: int = Field(default=1024 * 1024, ge=64)
    # The one queue between every source and the pipeline, bounded twice.
    queue_events: int = Field(default=50_000, ge=1)
    queue_bytes: int = Field(default=128 * 1024 * 1024, ge=1024)
    # Largest batch the pipeline commits at once, and how long it waits to fill one.
    batch_events: int = Field(default=20_000, ge=1)
    batch_wait_ms: int = Field(default=0, ge=0, le=10_000)
    # How long an HTTP request waits for queue space before it is told the server is busy.
    busy_timeout_s: float = Field(default=10.0, gt=0)


class _SourceBase(_Model):
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[\w.\-]+$")


class SyslogSourceConfig(_SourceBase):
    """Syslog over UDP, TCP (LF or octet-counted frames, RFC 6587) or TLS (RFC 5425)."""

    type: Literal["syslog"]
    protocol: Literal["udp", "tcp", "tls"] = "udp"
    host: str = LOOPBACK
    port: Port | None = None  # 514 (udp, tcp) or 6514 (tls)
    framing: Literal["auto", "lf", "octet"] = "auto"
    format: str = "syslog"
    tls: TlsConfig | None = None
    max_connections: int = Field(default=1024, ge=1)

    @property
    def listen_port(self) -> int:
        if self.port is not None:
            return self.port
        return 6514 if self.protocol == "tls" else 514


class _HttpSourceBase(_SourceBase):
    # A source with its own host/port gets its own listener (HEC on 8088 like Splunk,
    # bulk on 9200 like Elasticsearch); without, it is served on the shared `http` one.
    host: str | None = None
    port: Port | None = None
    tls: TlsConfig | None = None
    # Tokens for this source only; without, the top-level ones.
    tokens: list[str] = Field(default_factory=list)

    @field_validator("tokens")
    @classmethod
    def _usable_tokens(cls, value: list[str]) -> list[str]:
        return _check_tokens(value)


class HecSourceConfig(_HttpSourceBase):
    """Splunk HTTP Event Collector: ``/services/collector/event``, ``/raw``, ``/ack``."""

    type: Literal["hec"]
    ack: bool = False
    # Format for string events and raw lines whose sourcetype names no known format.
    format: str = "auto"


class BulkSourceConfig(_HttpSourceBase):
    """Elasticsearch ``_bulk``: documents become events through the JSON parser."""

    type: Literal["bulk"]


class OtlpSourceConfig(_HttpSourceBase):
    """OTLP/HTTP logs and traces, JSON or protobuf."""

    type: Literal["otlp"]


class TailSourceConfig(_SourceBase):
    """Files followed as they grow, with checkpoints that survive restarts and rotation."""

    type: Literal["tail"]
    paths: list[str] = Field(min_length=1)
    format: str = "auto"
    start_at: Literal["beginning", "end"] = "beginning"
    poll_ms: int = Field(default=250, ge=10, le=60_000)


SourceConfig = Annotated[
    SyslogSourceConfig | HecSourceConfig | BulkSourceConfig | OtlpSourceConfig | TailSourceConfig,
    Field(discriminator="type"),
]


class ServeConfig(_Model):
    """The whole ``heron.yml``."""

    data_dir: Path | None = None
    http: HttpConfig = HttpConfig()
    tokens: list[str] = Field(default_factory=list)
    sources: list[SourceConfig] = Field(default_factory=list)
    rules: list[Path] | None = None
    detect: bool = True
    # How often a running node looks for rule changes made outside its API (`heron rules
    # disable|enable`, `heron rules placeholders`, files copied into <data-dir>/rules/);
    # 0: never, a restart applies them.
    rules_poll_seconds: float = Field(default=2.0, ge=0, le=3600)
    # Events older than this are deleted by the node's housekeeping (a duration: 90d,
    # 52w); None keeps everything. Each pass also moves old days to Parquet.
    retention: str | None = None
    housekeeping_seconds: float = Field(default=3600.0, ge=0, le=7 * 86400)
    # A feeds file (as `heron intel refresh --feeds` takes): the node refreshes each feed
    # when its interval has passed, with the credentials of its own environment.
    intel_feeds: Path | None = None
    limits: LimitsConfig = LimitsConfig()
    # HEC answers once a request is synced to the receive log (<data-dir>/state/receive),
    # which a restart replays; off: once the request's batch is committed.
    receive_log: bool = True
    # Alert grouping and entity risk: checked by AlertSettings.from_mapping.
    alerts: dict[str, Any] = Field(default_factory=dict)
    # RFC 3164 lines carry neither year nor zone.
    year: int | None = Field(default=None, ge=1970, le=9999)
    timezone: str = "UTC"

    @field_validator("alerts")
    @classmethod
    def _known_alert_settings(cls, value: dict[str, Any]) -> dict[str, Any]:
        from heron.alerts.settings import AlertSettings

        try:
            AlertSettings.from_mapping(value)
        except ConfigError as exc:
            # The error location already names the section.
            raise ValueError(str(exc).removeprefix("alerts: ")) from exc
        return value

    @field_validator("retention")
    @classmethod
    def _retention_duration(cls, value: str | None) -> str | None:
        from heron.model.timeutil import parse_duration

        if value is not None and parse_duration(value) <= 0:
            raise ValueError("must be longer than zero")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        parse_timezone(value)
        return value

    @field_validator("tokens")
    @classmethod
    def _usable_tokens(cls, value: list[str]) -> list[str]:
        return _check_tokens(value)

    @classmethod
    def default(cls) -> ServeConfig:
        """No file: HEC, bulk and OTLP on the HTTP listener, nothing else."""
        return cls(
            sources=[
                HecSourceConfig(type="hec"),
                BulkSourceConfig(type="bulk"),
                OtlpSourceConfig(type="otlp"),
            ]
        )

    def ingest_tokens(self) -> list[str]:
        """Tokens from the file, then ``HERON_INGEST_TOKEN``; empty when neither has one."""
        if self.tokens:
            return list(self.tokens)
        env = os.environ.get("HERON_INGEST_TOKEN", "").strip()
        return [env] if env else []


def _check_tokens(tokens: list[str]) -> list[str]:
    for token in tokens:
        if len(token) < 16 or any(c.isspace() for c in token):
            # The message must not show the token: it may be a real one, mistyped.
            raise ValueError("each ingest token needs at least 16 characters and no spaces")
    return tokens


def parse_timezone(text: str) -> timezone:
    """``UTC`` or a fixed offset such as ``+02:00``."""
    if text.upper() in ("UTC", "Z"):
        return UTC
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-").replace(":", "")
    if not digits.isdigit() or len(digits) != 4 or int(digits[:2]) > 23 or int(digits[2:]) > 59:
        raise ValueError(f"use UTC or an offset like +02:00, not {text!r}")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def load_config(path: Path) -> ServeConfig:
    """The configuration in a YAML file; ``ConfigError`` listing every problem found."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys to values")
    try:
        config = ServeConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: " + "; ".join(_describe(e) for e in exc.errors())) from None
    # Relative paths in the file are relative to the file, as a reader expects.
    return _resolve_paths(config, path.parent)


def _describe(error: object) -> str:
    assert isinstance(error, dict)
    where = ".".join(str(p) for p in error.get("loc", ()))
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return f"{where}: unknown key"
    message = str(error.get("msg", "invalid"))
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return f"{where}: {message}"


def _resolve_paths(config: ServeConfig, base: Path) -> ServeConfig:
    def fix(p: Path) -> Path:
        return p if p.is_absolute() else base / p

    def fix_tls(tls: TlsConfig | None) -> TlsConfig | None:
        if tls is None:
            return None
        return tls.model_copy(
            update={
                "cert": fix(tls.cert),
                "key": fix(tls.key),
                "ca": fix(tls.ca) if tls.ca else None,
            }
        )

    sources: list[SourceConfig] = []
    for source in config.sources:
        update: dict[str, object] = {}
        if getattr(source, "tls", None) is not None:
            update["tls"] = fix_tls(source.tls)  # type: ignore[union-attr]
        if isinstance(source, TailSourceConfig):
            update["paths"] = [p if os.path.isabs(p) else str(base / p) for p in source.paths]
        sources.append(source.model_copy(update=update) if update else source)
    return config.model_copy(
        update={
            "data_dir": fix(config.data_dir) if config.data_dir else None,
            "rules": [fix(p) for p in config.rules] if config.rules is not None else None,
            "intel_feeds": fix(config.intel_feeds) if config.intel_feeds else None,
            "http": config.http.model_copy(update={"tls": fix_tls(config.http.tls)}),
            "sources": sources,
        }
    )
