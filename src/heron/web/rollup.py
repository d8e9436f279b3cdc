"""Events per minute and source, kept beside the events so the overview reads thousands
of rows instead of millions.

The table ``web_event_rollup`` holds counts of events whose ``event.ingested`` is at or
below a watermark; the overview adds, live, the events above it (few, and cheap to find:
``event.ingested`` grows with insertion order, so DuckDB skips the older row groups). The
watermark trails the clock by ``SETTLE_NS`` so that events stamped at receipt but
committed a little later are never skipped. Late events (old ``@timestamp``, new
``event.ingested``) land in their own minutes. Counts of days removed by retention stay
in the table; readers clip to the oldest stored event.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from heron.model.timeutil import NS_PER_S, now_ns
from heron.store.base import quote_ident
from heron.web.queries import SOURCE_SQL as _SOURCE
from heron.web.timerange import TimeRange

__all__ = ["SETTLE_NS", "SourceRollup"]

SETTLE_NS = 300 * NS_PER_S
#: Seconds between two refreshes of the table.
REFRESH_EVERY_S = 30.0
_MINUTE_NS = 60 * NS_PER_S
_TS = quote_ident("@timestamp")
_INGESTED = quote_ident("event.ingested")


class SourceRollup:
    """Per-minute, per-source event counts of one store (see the module docstring)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.writable = not getattr(store, "read_only", False)
        self._lock = threading.Lock()
        self._refreshed = 0.0
        self._watermark: int | None = None
        if self.writable:
            cur = store.connection()
            cur.execute(
                "CREATE TABLE IF NOT EXISTS web_event_rollup "
                "(minute BIGINT, source VARCHAR, n BIGINT)"
            )
            cur.execute("CREATE TABLE IF NOT EXISTS web_rollup_state (watermark BIGINT)")
            row = cur.execute("SELECT max(watermark) FROM web_rollup_state").fetchone()
            self._watermark = int(row[0]) if row and row[0] is not None else None

    def refresh(self, *, force: bool = False) -> None:
        """Fold the events ingested up to ``now - SETTLE_NS`` into the table."""
        if not self.writable:
            return
        with self._lock:
            if not force and time.monotonic() - self._refreshed < REFRESH_EVERY_S:
                return
            cutoff = now_ns() - SETTLE_NS
            low = self._watermark if self._watermark is not None else -(2**63)
            cur = self.store.connection()
            cur.execute("BEGIN TRANSACTION")
            try:
                cur.execute(
                    "INSERT INTO web_event_rollup "
                    f"SELECT epoch_ns({_TS}) // ? * ? AS minute, {_SOURCE} AS source, count(*) "
                    f"FROM events WHERE epoch_ns({_INGESTED}) > ? "
                    f"AND epoch_ns({_INGESTED}) <= ? AND {_TS} IS NOT NULL GROUP BY ALL",
                    [_MINUTE_NS, _MINUTE_NS, low, cutoff],
                )
                cur.execute("DELETE FROM web_rollup_state")
                cur.execute("INSERT INTO web_rollup_state VALUES (?)", [cutoff])
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            self._watermark = cutoff
            self._refreshed = time.monotonic()

    def counts(self, tr: TimeRange, oldest: int | None) -> list[tuple[Any, ...]]:
        """``(bucket, source, n)`` rows for the range: the table plus the live remainder."""
        if not self.writable or self._watermark is None:
            return self._live(tr, None)
        start = max(tr.start, (oldest // _MINUTE_NS) * _MINUTE_NS) if oldest else tr.start
        stored = (
            self.store.connection()
            .execute(
                "SELECT (minute - ?) // ? AS b, source, sum(n) FROM web_event_rollup "
                "WHERE minute >= ? AND minute < ? GROUP BY ALL",
                [tr.start, tr.step, start, tr.end],
            )
            .fetchall()
        )
        return [*stored, *self._live(tr, self._watermark)]

    def _live(self, tr: TimeRange, above: int | None) -> list[tuple[Any, ...]]:
        since = ""
        params: list[Any] = [tr.start, tr.step, tr.start, tr.end]
        if above is not None:
            since = f" AND (epoch_ns({_INGESTED}) > ? OR {_INGESTED} IS NULL)"
            params.append(above)
        return list(
            self.store.connection()
            .execute(
                f"SELECT (epoch_ns({_TS}) - ?) // ? AS b, {_SOURCE} AS src, count(*) FROM events "
                f"WHERE {_TS} >= make_timestamp_ns(?) AND {_TS} < make_timestamp_ns(?){since} "
                "GROUP BY ALL",
                params,
            )
            .fetchall()
        )
