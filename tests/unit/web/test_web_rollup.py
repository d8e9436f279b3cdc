"""The per-minute source counts agree with counting the events directly."""

from __future__ import annotations

from pathlib import Path

from heron.model.event import EventBatch
from heron.model.timeutil import NS_PER_S, now_ns
from heron.store.duckdb import DuckDBStore
from heron.web.queries import events_by_source
from heron.web.rollup import SETTLE_NS, SourceRollup
from heron.web.timerange import resolve_range


def _events(n: int, start: int, ingested: int, module: str) -> EventBatch:
    return EventBatch(
        [
            {
                "@timestamp": start + i * 7 * NS_PER_S,
                "event.ingested": ingested,
                "event.id": f"{module}-{start}-{i}",
                "event.module": module,
                "message": "x",
            }
            for i in range(n)
        ]
    )


def _direct(store: DuckDBStore, tr) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    rows = (
        store.connection()
        .execute(
            'SELECT (epoch_ns("@timestamp") - ?) // ? AS b, "event.module", count(*) FROM events '
            'WHERE "@timestamp" >= make_timestamp_ns(?) AND "@timestamp" < make_timestamp_ns(?) '
            "GROUP BY ALL",
            [tr.start, tr.step, tr.start, tr.end],
        )
        .fetchall()
    )
    return events_by_source(rows, tr)


def test_rollup_plus_live_remainder_equals_direct_counts(tmp_path: Path) -> None:
    now = now_ns()
    hour_ago = now - 3600 * NS_PER_S
    with DuckDBStore(tmp_path / "d") as store:
        store.append(_events(300, hour_ago - 1800 * NS_PER_S, hour_ago, "sshd"))
        store.append(_events(50, now - 600 * NS_PER_S, now, "sysmon"))  # not settled yet
        rollup = SourceRollup(store)
        rollup.refresh(force=True)
        tr = resolve_range("24h", None, None, newest=now, oldest=None)
        assert events_by_source(rollup.counts(tr, None), tr) == _direct(store, tr)
        stored = store.query("SELECT sum(n) AS n FROM web_event_rollup").to_pylist()
        assert stored == [{"n": 300}]  # only the settled events were folded in
        # Late events (old time, new ingestion) and fresh ones: counted live, then folded.
        store.append(_events(20, hour_ago - 7200 * NS_PER_S, now - SETTLE_NS // 2, "web"))
        assert events_by_source(rollup.counts(tr, None), tr) == _direct(store, tr)
        reopened = SourceRollup(store)  # the watermark survives a restart
        assert events_by_source(reopened.counts(tr, None), tr) == _direct(store, tr)
