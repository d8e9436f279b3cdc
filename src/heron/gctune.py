"""Garbage-collector settings for the processes that move events in bulk.

CPython's cyclic collector runs a young-generation pass every 700 allocations and
a full pass whenever enough objects have survived, and each full pass walks every
live object: the compiled rule set (hundreds of thousands of objects) and the matches
a bulk load holds for correlation. Measured on the mixed benchmark corpus, that made
the correlation of 94k matches take 5-6 s instead of 2-3 s. Events are plain dicts
and lists without cycles, so collecting rarely loses nothing: the long-lived objects
built at start are frozen out of every pass, and a young pass waits for 50,000
allocations.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["YOUNG_THRESHOLD", "collector_paused", "tune_for_bulk"]

#: Allocations between two young-generation passes (CPython's default is 700).
YOUNG_THRESHOLD = 50_000


def tune_for_bulk() -> None:
    """Freeze what exists now (rules, caches) and collect young objects less often."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)


@contextmanager
def collector_paused(*, freeze: bool = False) -> Iterator[None]:
    """No cyclic collection while many objects that live on are made (a rule set
    unpickled from the cache, a million indicators): the passes would walk the growing
    heap again and again and find nothing to free.

    ``freeze``: the objects made (and all others alive) are then frozen out of every
    later pass, as ``tune_for_bulk`` does; else the first pass after walks them all
    once (40-50 ms for the SigmaHQ Windows rules)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()
