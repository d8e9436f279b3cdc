"""A single node's components, opened together and closed together."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from heron.detect.base import Detector
from heron.enrich.base import Enricher
from heron.model.timeutil import NS_PER_S, now_ns
from heron.pipeline import AlertSink
from heron.store.duckdb import DuckDBStore

__all__ = ["HOT_DAYS", "Node", "open_node"]

#: Days of events kept in the database before they move to Parquet files.
HOT_DAYS = 2


@dataclass
class Node:
    """The store, detection and enrichment of one Heron node."""

    data_dir: Path
    store: DuckDBStore
    detector: Detector | None = None
    alerts: AlertSink | None = None
    enrichers: list[Enricher] = field(default_factory=list)

    def finish_ingest(self) -> None:
        """Housekeeping after a bulk load: move old days to Parquet."""
        self.store.compact(now_ns() - HOT_DAYS * 86400 * NS_PER_S)


@contextmanager
def open_node(
    data_dir: Path,
    *,
    rule_paths: Sequence[Path] | None = None,
    detect: bool = True,
) -> Iterator[Node]:
    """Open the store and build the detection engine (built-in rules unless ``rule_paths``)."""
    store = DuckDBStore(data_dir)
    try:
        node = Node(data_dir, store)
        if detect:
            from heron.alerts.store import AlertStore
            from heron.detect.engine import build_detection_engine

            node.detector = build_detection_engine(rule_paths, data_dir)
            node.alerts = AlertStore(store)
        yield node
    finally:
        store.close()
