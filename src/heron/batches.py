"""Batch numbers of the intake, and the context-snapshot epoch each batch is sent with.

A node that writes a new context snapshot (indicators, assets, identities) while it
runs must know two things: from which batch on every event is enriched from it, and
when every batch sent before has been committed. The intake numbers each batch as it
sends it to be transformed, with the epoch current at that moment; ``new_epoch``
raises the epoch and waits for the batches numbered before.
"""

from __future__ import annotations

import threading

__all__ = ["BatchNumbers"]


class BatchNumbers:
    """Numbers batches in the order they are sent; knows the last one committed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._epoch = 0
        self._sent = 0
        self._committed = 0
        self._commits = threading.Condition()

    def send(self) -> tuple[int, int]:
        """The next batch's number, and the snapshot epoch it is to be enriched from."""
        with self._lock:
            self._sent += 1
            return self._sent, self._epoch

    def committed(self, number: int) -> None:
        """Batch ``number`` is done committing (or failed to): batches commit in order."""
        with self._commits:
            self._committed = number
            self._commits.notify_all()

    def new_epoch(self, timeout: float | None) -> bool:
        """Raise the epoch; then wait until every batch numbered before is committed
        (False if ``timeout`` passed first)."""
        with self._lock:
            self._epoch += 1
            before = self._sent
        with self._commits:
            return self._commits.wait_for(lambda: self._committed >= before, timeout)
