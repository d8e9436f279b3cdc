"""Keeping a data directory in shape: events past retention deleted, old days to Parquet.

``heron retention --keep 90d`` does it once; a running ``heron serve`` does it every
``housekeeping_seconds`` (default hourly) with its ``retention`` (none: keep all), so
a node that runs for months neither keeps every day in its database nor holds data
longer than policy allows. ``POST /api/retention`` is the command through the API.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from heron.model.timeutil import now_ns, parse_duration
from heron.store.duckdb import DuckDBStore

__all__ = ["Housekept", "housekeep", "keep_in_shape"]

log = logging.getLogger(__name__)

NS_PER_DAY = 86_400 * 1_000_000_000
#: Days of events kept in the database before they move to Parquet files.
HOT_DAYS = 2
#: Old-day events a node (or a bulk load) leaves in the hot table before they move: a
#: few thousand events over many days would otherwise become as many tiny files.
COMPACT_MIN_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class Housekept:
    """What one pass did: events deleted past retention, days moved to Parquet."""

    deleted: int
    moved: int


def keep_in_shape(
    store: DuckDBStore, *, keep_ns: int | None, min_rows: int = 0, now: int | None = None
) -> Housekept:
    """Delete whole days older than ``keep_ns`` (None: none), then move the days older
    than ``HOT_DAYS`` to Parquet when at least ``min_rows`` of their events are hot."""
    at = now if now is not None else now_ns()
    deleted = store.drop_before(at - keep_ns) if keep_ns is not None else 0
    moved = store.compact(at - HOT_DAYS * NS_PER_DAY, min_rows=min_rows)
    return Housekept(deleted, moved)


async def housekeep(store: DuckDBStore, retention: str | None, every_s: float) -> None:
    """The node's housekeeping, every ``every_s`` seconds until cancelled (0: never).

    Runs in a thread: the store's moves and deletes are DuckDB work that releases the
    GIL, and they take the store's write lock one batch of days at a time, so commits
    of live data wait at most one batch.
    """
    import asyncio  # here: a bulk load imports this module and needs no event loop

    if every_s <= 0:
        return
    keep_ns = parse_duration(retention) if retention else None
    while True:
        await asyncio.sleep(every_s)
        try:
            done = await asyncio.to_thread(
                keep_in_shape, store, keep_ns=keep_ns, min_rows=COMPACT_MIN_ROWS
            )
        except Exception as exc:  # the next pass tries again; the data stays searchable
            log.warning("housekeeping failed (old days stay where they are): %s", exc)
            continue
        if done.deleted or done.moved:
            log.info(
                "housekeeping: %d events past retention deleted, %d days moved to Parquet",
                done.deleted,
                done.moved,
            )
