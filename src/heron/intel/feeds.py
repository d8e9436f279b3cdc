"""Scheduled feed refresh: TAXII collections, HTTP exports and local files, each on its
own interval, with the outcome of every run kept in the ``intel_feeds`` table.

``FeedScheduler.run_due`` loads every feed whose interval has passed (``heron intel
refresh`` runs it once, from cron or by hand; ``run_in_loop`` is a running node's task
with ``intel_feeds``). A feed that fails is retried after ``min(interval, 15 min)``; its
error is recorded and never stops the other feeds. TAXII feeds fetch only what was
added since their last successful run.

The scheduler fetches; a ``FeedBook`` stores what it fetched and how each run went:
``StoreFeedBook`` in a store the process holds, or the running node that holds it
(``heron.cli.intel``), so that the feeds' credentials stay with the command.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from heron.alerts.store import AlertStore
from heron.errors import ConfigError, HeronError
from heron.intel.loaders import LoadOptions, LoadResult, load_path, load_url
from heron.intel.loaders.taxii import fetch_taxii
from heron.intel.loading import Stored, store_indicators
from heron.model.timeutil import NS_PER_S, format_ns, now_ns, parse_duration
from heron.store.duckdb import DuckDBStore

log = logging.getLogger(__name__)

__all__ = [
    "FEED_STATE_KEYS",
    "FEED_TIMES",
    "FeedBook",
    "FeedConfig",
    "FeedRun",
    "FeedScheduler",
    "StoreFeedBook",
    "feed_state_text",
    "feed_states",
    "load_feeds",
]

_RETRY_NS = 15 * 60 * NS_PER_S
# TAXII servers stamp date_added with their own clock; overlap a little, dedup absorbs it.
_TAXII_OVERLAP_NS = 5 * 60 * NS_PER_S


class FeedConfig(BaseModel):
    """One feed of a feeds file (YAML: ``feeds: [{name, type, …}]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w.\-]+$")
    type: Literal["taxii", "url", "file"]
    url: str | None = None
    path: Path | None = None
    format: Literal["auto", "stix", "misp", "csv", "plain"] = "auto"
    interval: str = "1h"
    user: str | None = None
    # The name of an environment variable holding the password, never the password.
    password_env: str | None = None
    confidence: int | None = Field(default=None, ge=0, le=100)
    alert: bool = True
    ttl: str | None = None
    tags: list[str] = Field(default_factory=list)
    timeout: float = Field(default=30.0, gt=0)
    retro_days: int = Field(default=30, ge=0)

    @model_validator(mode="after")
    def _where(self) -> FeedConfig:
        if self.type == "file" and self.path is None:
            raise ValueError("a file feed needs 'path'")
        if self.type in ("taxii", "url") and not (self.url or "").startswith(
            ("http://", "https://")
        ):
            raise ValueError(f"a {self.type} feed needs an http(s) 'url'")
        for name in ("interval", "ttl"):
            value = getattr(self, name)
            if value is not None:
                parse_duration(value)
        return self

    @property
    def interval_ns(self) -> int:
        return parse_duration(self.interval)

    def options(self, now: int) -> LoadOptions:
        return LoadOptions(
            source=self.name,
            confidence=self.confidence,
            alert=self.alert,
            ttl=parse_duration(self.ttl) if self.ttl else None,
            tags=tuple(self.tags),
            now=now,
        )


class _FeedsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    feeds: list[FeedConfig]


def load_feeds(path: Path) -> list[FeedConfig]:
    """The feeds of a YAML file; ``ConfigError`` says what is wrong and where.

    A file feed's relative ``path`` is relative to the feeds file, as in ``heron.yml``:
    a node reads it from wherever it was started (systemd: ``/``).
    """
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        feeds = _FeedsFile.model_validate(doc).feeds
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None
    names = [f.name for f in feeds]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: feed names must be unique")
    base = path.parent
    return [
        f.model_copy(update={"path": base / f.path})
        if f.path is not None and not f.path.is_absolute()
        else f
        for f in feeds
    ]


@dataclass(slots=True)
class FeedRun:
    """The outcome of refreshing one feed."""

    name: str
    ok: bool
    error: str | None = None
    received: int = 0
    added: int = 0
    updated: int = 0
    refused: int = 0
    retro_hits: int = 0
    seconds: float = 0.0


#: What is kept of each feed's runs (times and the TAXII cursor in int ns).
FEED_STATE_KEYS = ("last_run", "last_success", "ok", "last_error", "taxii_cursor", "last_added")
#: The ones among them that are times.
FEED_TIMES = ("last_run", "last_success", "taxii_cursor")


def feed_state_text(name: str, row: dict[str, Any]) -> dict[str, Any]:
    """A feed's stored state as shown (API, UI): its times as RFC 3339 text."""
    out: dict[str, Any] = {"name": name}
    for key in FEED_STATE_KEYS:
        value = row.get(key)
        out[key] = format_ns(int(value)) if key in FEED_TIMES and value is not None else value
    return out


class FeedBook(Protocol):
    """Where a scheduler's feeds go: their indicators, and the outcome of each run."""

    def state(self) -> dict[str, dict[str, Any]]:
        """Per feed name, its ``FEED_STATE_KEYS``."""
        ...

    def store(self, result: LoadResult, retro_days: int, now: int) -> Stored:
        """Store a run's indicators (one transaction) and retro-match the new ones."""
        ...

    def record(self, name: str, now: int, run: FeedRun, cursor: int | None) -> None:
        """Note how a run went (``cursor``: where the next TAXII fetch starts)."""
        ...


def feed_states(store: DuckDBStore) -> dict[str, dict[str, Any]]:
    """Per feed name, its ``FEED_STATE_KEYS`` as stored (none before any feed ran)."""
    cur = store.connection()
    found = cur.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'intel_feeds'"
    ).fetchall()
    if not found or not found[0][0]:
        return {}
    rows = cur.execute(
        "SELECT name, epoch_ns(last_run), epoch_ns(last_success), ok, last_error, "
        "taxii_cursor, last_added FROM intel_feeds ORDER BY name"
    ).fetchall()
    return {row[0]: dict(zip(FEED_STATE_KEYS, row[1:], strict=True)) for row in rows}


class StoreFeedBook:
    """Feeds stored in a store this process holds; retro hits become ``alerts``;
    ``before_retro``: as ``store_indicators`` takes it (a running node's)."""

    def __init__(
        self,
        store: DuckDBStore,
        *,
        alerts: AlertStore | None = None,
        before_retro: Callable[[], None] | None = None,
    ) -> None:
        self.db = store
        self.alerts = alerts
        self.before_retro = before_retro
        store.connection().execute(
            "CREATE TABLE IF NOT EXISTS intel_feeds (name VARCHAR PRIMARY KEY, "
            "last_run TIMESTAMP_NS, last_success TIMESTAMP_NS, ok BOOLEAN, "
            "last_error VARCHAR, taxii_cursor BIGINT, last_added BIGINT)"
        )

    def state(self) -> dict[str, dict[str, Any]]:
        return feed_states(self.db)

    def store(self, result: LoadResult, retro_days: int, now: int) -> Stored:
        return store_indicators(
            self.db,
            result.to_table(),
            result.revoked,
            retro_days=retro_days,
            alerts=self.alerts,
            now=now,
            before_retro=self.before_retro,
        )

    def record(self, name: str, now: int, run: FeedRun, cursor: int | None) -> None:
        previous = self.state().get(name, {}).get("last_success")
        cur = self.db.connection()
        cur.execute("BEGIN TRANSACTION")
        cur.execute("DELETE FROM intel_feeds WHERE name = ?", [name])
        cur.execute(
            "INSERT INTO intel_feeds VALUES (?, make_timestamp_ns(?), make_timestamp_ns(?), "
            "?, ?, ?, ?)",
            [name, now, now if run.ok else previous, run.ok, run.error, cursor, run.added],
        )
        cur.execute("COMMIT")


class FeedScheduler:
    """Runs the feeds that are due and records how each run went."""

    def __init__(
        self,
        book: FeedBook,
        feeds: Sequence[FeedConfig],
        *,
        clock: Callable[[], int] = now_ns,
        env: dict[str, str] | None = None,
    ) -> None:
        self.book = book
        self.feeds = list(feeds)
        self.clock = clock
        self.env = env if env is not None else dict(os.environ)

    def state(self) -> dict[str, dict[str, Any]]:
        return self.book.state()

    def due(self, now: int | None = None) -> list[FeedConfig]:
        when = self.clock() if now is None else now
        state = self.state()
        out = []
        for feed in self.feeds:
            last = state.get(feed.name)
            if last is None or last["last_run"] is None:
                out.append(feed)
                continue
            wait = feed.interval_ns if last["ok"] else min(feed.interval_ns, _RETRY_NS)
            if when - int(last["last_run"]) >= wait:
                out.append(feed)
        return out

    def run_due(self, *, force: bool = False) -> list[FeedRun]:
        """Refresh every due feed (every feed with ``force``), one after the other."""
        feeds = self.feeds if force else self.due()
        return [self.refresh(feed) for feed in feeds]

    def refresh(self, feed: FeedConfig) -> FeedRun:
        """Fetch, load (one transaction), retro-match and record one feed; never raises."""
        started = time.perf_counter()
        now = self.clock()
        cursor = self.state().get(feed.name, {}).get("taxii_cursor")
        run = FeedRun(feed.name, ok=False)
        new_cursor = cursor
        try:
            result, fetched_at = self._fetch(feed, now, cursor)
            stored = self.book.store(result, feed.retro_days, now)
            run.received, run.added, run.updated = stored.received, stored.added, stored.updated
            run.refused = len(result.errors)
            run.retro_hits = stored.retro_hits
            if fetched_at is not None:
                new_cursor = fetched_at - _TAXII_OVERLAP_NS
            run.ok = True
        except HeronError as exc:
            run.error = str(exc)
        run.seconds = time.perf_counter() - started
        self.book.record(feed.name, now, run, new_cursor)
        return run

    def _fetch(
        self, feed: FeedConfig, now: int, cursor: int | None
    ) -> tuple[LoadResult, int | None]:
        options = feed.options(now)
        if feed.type == "file":
            if feed.path is None:  # the model refuses this; keeps the types honest
                raise ConfigError(f"feed {feed.name}: no path")
            return load_path(feed.path, options, fmt=feed.format), None
        if feed.url is None:
            raise ConfigError(f"feed {feed.name}: no url")
        if feed.type == "url":
            return load_url(feed.url, options, fmt=feed.format, timeout=feed.timeout), None
        password = None
        if feed.password_env:
            password = self.env.get(feed.password_env)
            if password is None:
                raise ConfigError(f"feed {feed.name}: ${feed.password_env} is not set")
        fetch = fetch_taxii(
            feed.url,
            options,
            user=feed.user,
            password=password,
            added_after=cursor,
            timeout=feed.timeout,
        )
        return fetch.result, fetch.started

    async def run_in_loop(self, tick: float = 60.0) -> None:
        """Refresh due feeds every ``tick`` seconds until cancelled (a running node's task);
        each pass runs in a thread, and its failures are logged, never raised."""
        import asyncio  # here: the command's one-off refresh needs no event loop

        while True:
            try:
                runs = await asyncio.to_thread(self.run_due)
            except Exception as exc:  # the store, not a feed: the next pass tries again
                log.warning("intel feeds: the refresh failed: %s", exc)
                runs = []
            for run in runs:
                if run.ok:
                    log.info(
                        "intel feed %s: %d indicators (%d new), %d past hits",
                        run.name,
                        run.received,
                        run.added,
                        run.retro_hits,
                    )
                else:
                    log.warning("intel feed %s failed: %s", run.name, run.error)
            await asyncio.sleep(tick)
