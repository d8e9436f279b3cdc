"""Storing what a load of indicators read: one transaction, the retro-match, its alerts.

The same steps whoever asks: ``heron intel load`` on a store of its own, a node asked
through its API (``POST /api/intel/load``), and a feed's scheduled run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

import pyarrow as pa

from heron.alerts.store import AlertStore
from heron.intel.indicator import Indicator
from heron.intel.retro import retro_match
from heron.intel.store import IntelStore
from heron.store.duckdb import DuckDBStore

__all__ = ["COMMIT_WAIT_S", "Stored", "once_drained", "store_indicators"]

log = logging.getLogger(__name__)

#: Longest a load waits for the batches a running node is transforming to be committed
#: before it retro-matches the store (see ``Intake.snapshots_changed``).
COMMIT_WAIT_S = 120.0


class _Intake(Protocol):
    def snapshots_changed(self, timeout: float | None = None) -> bool: ...


def once_drained(intake: _Intake) -> Callable[[], None]:
    """``before_retro`` for a running node: from now on its pipeline enriches from the new
    snapshot, and what it transformed before is in the store when this returns."""

    def drained() -> None:
        if not intake.snapshots_changed(timeout=COMMIT_WAIT_S):
            log.warning(
                "new indicators: batches sent before them were still not committed "
                "after %.0f s; the retro-match may miss their events",
                COMMIT_WAIT_S,
            )

    return drained


@dataclass(frozen=True, slots=True)
class Stored:
    """What a load stored, and what its retro-match found."""

    received: int
    added: int
    updated: int
    revoked: int
    retro_hits: int
    alerts: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def store_indicators(
    store: DuckDBStore,
    indicators: pa.Table,
    revoked: Sequence[Indicator],
    *,
    retro_days: int,
    alerts: AlertStore | None,
    now: int | None = None,
    before_retro: Callable[[], None] | None = None,
) -> Stored:
    """Store ``indicators`` (a ``LOAD_SCHEMA`` table) and withdraw ``revoked``, all or none,
    then retro-match the new ones over ``retro_days`` of events; the hits become alerts
    in ``alerts`` (none stored without it). ``before_retro`` runs between the two: a node
    makes sure there that the store holds what its pipeline had in hand."""
    summary = IntelStore(store).load(indicators, revoked=revoked, collect_new=retro_days > 0)
    if before_retro is not None:
        before_retro()
    detections = retro_match(store, summary.new, retro_days, now=now) if retro_days else []
    added = alerts.add(detections) if detections and alerts is not None else None
    return Stored(
        received=summary.received,
        added=summary.added,
        updated=summary.updated,
        revoked=summary.revoked,
        retro_hits=len(detections),
        alerts=len(added.alert_ids) if added is not None else 0,
    )
