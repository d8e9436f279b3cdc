"""Ingest, triage and reading at once on one store, as ``heron serve`` does from threads."""

from __future__ import annotations

import threading
from collections.abc import Callable

from heron.alerts import AlertStore, Suppressions
from heron.detect.base import Detection
from heron.store.duckdb import DuckDBStore

S = 1_000_000_000
T0 = 1_700_000_000 * S


def test_writers_on_separate_alert_stores_do_not_conflict(store: DuckDBStore) -> None:
    # Separate objects, as the pipeline and each API request build them: they share one
    # lock per store, so DuckDB never sees two transactions updating the same rows.
    ingest, api = AlertStore(store), AlertStore(store)
    ingest.add([Detection("r0", "Rule", "low", T0, ("e",), entities={"user.name": "u0"})])
    errors: list[BaseException] = []

    def run(work: Callable[[int], object]) -> Callable[[], None]:
        def loop() -> None:
            try:
                for i in range(20):
                    work(i)
            except BaseException as exc:  # reported below, with the thread's failure
                errors.append(exc)

        return loop

    def add(i: int) -> object:
        return ingest.add(
            [
                Detection(f"r{i % 3}", "Rule", "high", T0 + i * S, (f"e{i}",),
                          entities={"user.name": f"u{i % 5}", "host.name": "web1"})
            ]
        )  # fmt: skip

    def triage(i: int) -> object:
        ids = [a.id for a in api.list(limit=5)]
        return api.update(ids, actor="ann", status="acknowledged" if i % 2 else "new")

    def suppress(i: int) -> object:
        return Suppressions(store).add(
            "user.name", f"x{i}", reason="r", actor="ann", expires_ns=None
        )

    def read(i: int) -> object:
        return api.list(limit=50, text="rule"), api.risk.top()

    threads = [threading.Thread(target=run(w)) for w in (add, triage, suppress, read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert ingest.count() >= 1 and len(Suppressions(store).list()) == 20
    assert ingest.risk.score("host", "web1", at_ns=T0 + 20 * S) > 0
