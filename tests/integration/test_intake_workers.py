"""The collector's intake with worker processes: same stored events and alerts as in-process.

Real components end to end (store, detection engine with the built-in rules, worker
pool); only the network sources are left out: chunks are submitted as a source would.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from heron.collector import serve_workers
from heron.intake import Committed, Intake
from heron.metrics import CollectorMetrics
from heron.parsers import ParseContext
from heron.pipeline import Pipeline
from heron.runtime import WorkerPool, open_node
from heron.sources.file import RawChunk

CONTEXT = ParseContext(year=2026)


def _lines(count: int) -> list[str]:
    lines = []
    for i in range(count):
        if i % 2:
            lines.append(
                f"Nov 27 10:00:{i % 60:02d} web1 sshd[{100 + i}]: Failed password for invalid "
                f"user admin{i % 3} from 203.0.113.{i % 7 + 1} port {40000 + i} ssh2"
            )
        else:
            lines.append(f"Nov 27 10:{i % 60:02d}:01 web1 cron[{i}]: (root) CMD (run-parts)")
    lines.append("")  # an empty record: a dead letter, whatever runs the transform
    return lines


async def _ingest(data_dir: Path, workers: int) -> tuple[list[Committed], list[tuple], int]:
    with open_node(data_dir) as node:
        pipeline = Pipeline(
            node.store,
            detector=node.detector,
            alerts=node.alerts,
            enrichers=node.enrichers,
            context=CONTEXT,
        )
        metrics = CollectorMetrics()
        source = metrics.source("tcp", "syslog")
        factory = None
        if workers:
            spec = node.worker_spec(CONTEXT)

            def factory() -> WorkerPool:
                return WorkerPool(spec, workers, node.detector)

        intake = Intake(pipeline, metrics, pool_factory=factory, pool_min_events=1)
        intake.start(["syslog"])
        futures = []
        lines = _lines(400)
        for start in range(0, len(lines), 100):
            part = lines[start : start + 100]
            chunk = RawChunk("tcp", "syslog", part, [f"peer {start + i}" for i in range(len(part))])
            future = await intake.submit([chunk], source, nbytes=1000, want_ids=True)
            assert future is not None
            futures.append(future)
        committed = list(await asyncio.gather(*futures))
        await intake.close()
        rows = node.store.query(
            'SELECT "event.original", "user.name", "source.ip", "event.outcome", '
            '"log.file.path" FROM events ORDER BY "event.original"'
        ).to_pylist()
        node.finish_ingest()
        alerts = node.store.query("SELECT count(*) AS n FROM alerts").to_pylist()[0]["n"]
    return committed, [tuple(r.values()) for r in rows], int(alerts)


def test_worker_pool_stores_what_the_in_process_path_stores(tmp_path: Path) -> None:
    local, local_rows, local_alerts = asyncio.run(_ingest(tmp_path / "local", 0))
    pooled, pooled_rows, pooled_alerts = asyncio.run(_ingest(tmp_path / "pool", 1))
    assert [c.events for c in pooled] == [c.events for c in local]
    assert sum(c.events for c in pooled) == 400
    # The empty record is dead-lettered either way, in its own submission's answer.
    assert [sum(len(d) for d in c.dead_letters) for c in pooled] == [0, 0, 0, 0, 1]
    assert all(c.event_ids and len(c.event_ids[0]) == c.events for c in pooled)
    assert pooled_rows == local_rows
    assert all(row[4] is None for row in pooled_rows)  # network events carry no file path
    assert any(row[1] == "admin1" and row[3] == "failure" for row in pooled_rows)
    # Burst correlations span chunks: the workers match, this process correlates.
    assert local_alerts > 0
    assert pooled_alerts == local_alerts


def test_serve_workers_reads_the_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HERON_WORKERS", "0")
    assert serve_workers() == 0
    assert serve_workers(3) == 3
    monkeypatch.setenv("HERON_WORKERS", "2")
    assert serve_workers() == 2


CANARY = b"""title: Worker canary
id: 0b7f9c1e-2222-4333-8444-555566667777
status: test
logsource: {product: workertest}
detection:
  selection: {canary: rebuilt}
  condition: selection
level: high
"""


def test_workers_pick_up_a_rule_uploaded_while_running(tmp_path: Path) -> None:
    from heron.api.rulebook import RuleBook

    record = (
        '{"@timestamp": "2026-01-02T03:04:05Z", "event.module": "workertest", "canary": "rebuilt"}'
    )
    with (
        open_node(tmp_path) as node,
        WorkerPool(node.worker_spec(CONTEXT), 1, node.detector) as pool,
    ):

        def matched() -> list[str]:
            result = pool.submit(
                RawChunk("tcp", "json", [record], ["peer 1"]), from_file=False
            ).result()
            return [d.rule_name for d in pool.finish_detections(result)]

        assert matched() == []
        RuleBook(tmp_path, node.detector, node.rule_paths).upload("canary.yml", CANARY)
        assert matched() == ["Worker canary"]


def test_indicators_loaded_while_running_reach_every_event_after(tmp_path: Path) -> None:
    """Each event is stored before ``snapshots_changed`` returns, or enriched from the new
    indicators: a retro-match at that moment and the live matching after miss nothing."""
    from heron.intel.indicator import Indicator
    from heron.intel.store import IntelStore
    from heron.store.base import field_sql

    ioc = "198.51.100.23"

    def record(i: int) -> str:
        return f'{{"@timestamp": "2026-01-02T03:04:05Z", "source.ip": "{ioc}", "n": {i}}}'

    def unmarked() -> int:
        column, params = field_sql("threat.enrichments")
        sql = f"SELECT count(*) AS n FROM events WHERE {column} IS NULL"
        return int(node.store.query(sql, params).to_pylist()[0]["n"])

    async def run() -> tuple[int, int, int]:
        intake = Intake(
            pipeline, metrics, pool_factory=factory, pool_min_events=1, batch_events=500
        )
        intake.start(["json"])
        source = metrics.source("http", "json")
        # The workers start (and read the snapshots) before the indicators are loaded.
        warm = RawChunk("http", "json", ['{"message": "warm-up"}'], ["peer"])
        assert (await (await intake.submit([warm], source, nbytes=100))).events == 1  # type: ignore[union-attr]
        futures = []
        for part in range(40):
            lines = [record(part * 500 + i) for i in range(500)]
            chunk = RawChunk("http", "json", lines, ["peer"] * len(lines))
            futures.append(await intake.submit([chunk], source, nbytes=1000))
            await asyncio.sleep(0)
            if part == 10:
                await futures[0]  # so that some are stored without the indicator
                IntelStore(node.store).load([Indicator(type="ipv4-addr", value=ioc, source="test")])
                # From a thread, as the API does, while the loop goes on submitting.
                changed = asyncio.get_running_loop().run_in_executor(
                    None, intake.snapshots_changed, 60.0
                )
        assert await changed
        at_change = unmarked()
        stored = sum(c.events for c in await asyncio.gather(*futures))  # type: ignore[misc]
        await intake.close()
        return at_change, unmarked(), stored

    with open_node(tmp_path, detect=False) as node:
        pipeline = Pipeline(node.store, enrichers=node.enrichers, context=CONTEXT)
        metrics = CollectorMetrics()
        spec = node.worker_spec(CONTEXT)

        def factory() -> WorkerPool:
            return WorkerPool(spec, 2, None)

        at_change, at_end, stored = asyncio.run(run())
    assert stored == 20_000
    assert 500 < at_change < stored  # some stored before, the rest enriched
    assert at_end == at_change


def test_a_load_correlates_in_its_own_engine_through_the_workers(tmp_path: Path) -> None:
    def burst(ip: str, day: str) -> list[str]:
        return [
            f"{day} 10:00:{i * 5:02d} web01 sshd[{300 + i}]: Failed password for root from "
            f"{ip} port {41000 + i} ssh2"
            for i in range(7)
        ]

    async def run() -> list[str]:
        intake = Intake(pipeline, metrics, pool_factory=factory, pool_min_events=1)
        intake.start(["syslog"])
        source = metrics.source("upload", "upload")
        futures = []
        # The second file is the older one: held, the load still correlates both.
        for lines in (burst("203.0.113.7", "Mar  3"), burst("203.0.113.8", "Feb  1")):
            chunk = RawChunk("auth.log", "syslog", lines, ["line"] * len(lines))
            futures.append(
                await intake.submit(
                    [chunk], source, nbytes=1000, from_file=True, correlation=correlation
                )
            )
        committed = await asyncio.gather(*futures)  # type: ignore[arg-type]
        await intake.close()
        assert [c.events for c in committed] == [7, 7]
        assert node.detector is not None
        found = node.detector.flush(final=True, correlation=correlation)
        return sorted(str(d.entities.get("source.ip")) for d in found)

    with open_node(tmp_path) as node:
        assert node.detector is not None and node.detector.correlation is not None
        pipeline = Pipeline(node.store, detector=node.detector, alerts=node.alerts, context=CONTEXT)
        metrics = CollectorMetrics()
        spec = node.worker_spec(CONTEXT)

        def factory() -> WorkerPool:
            return WorkerPool(spec, 1, node.detector)

        correlation = node.detector.load_correlation(tmp_path / "spool")
        assert correlation is not None
        correlation.hold_limit = 10  # the first file's matches go to disk, then are merged
        ips = asyncio.run(run())
        assert correlation.stats().spilled > 0
        assert list((tmp_path / "spool").iterdir()) == []  # the runs are gone
        # The live engine saw none of it: its event time has not moved.
        assert node.detector.correlation.watermark is None
    assert ips == ["203.0.113.7", "203.0.113.8"]
