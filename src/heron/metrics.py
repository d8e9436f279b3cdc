"""Counters of the collector and their Prometheus text rendering.

Each counter has one writer: sources count what arrives on the event loop, the
pipeline thread counts what was stored or dead-lettered. So plain integers suffice
and reading them for ``/metrics`` needs no lock (a scrape may see one batch half-way).
"""

from __future__ import annotations

import bisect
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

__all__ = ["CollectorMetrics", "LatencyHistogram", "SourceMetrics"]

_COMMIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class SourceMetrics:
    """What one source saw; ``received = parsed + failed + dropped`` once the queue is empty."""

    name: str
    type: str
    received: int = 0  # records that arrived (frames, events, lines, documents)
    parsed: int = 0  # of those, stored as events
    failed: int = 0  # of those, kept as dead letters (framing, encoding, parse errors)
    dropped: int = 0  # of those, lost on purpose and counted (UDP with a full queue)
    bytes: int = 0
    connections: int = 0  # open now (TCP/TLS)
    rejected: Counter[str] = field(default_factory=Counter)  # whole requests refused, by reason
    # UDP: datagrams the kernel dropped before Heron could read them.
    kernel_drops: Callable[[], int] | None = None


@dataclass
class LatencyHistogram:
    """A Prometheus histogram of seconds."""

    buckets: tuple[float, ...] = _COMMIT_BUCKETS
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.buckets) + 1)

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, seconds)] += 1
        self.total += seconds
        self.count += 1


@dataclass
class CollectorMetrics:
    """Every source's counters plus the queue's and the pipeline's."""

    sources: dict[str, SourceMetrics] = field(default_factory=dict)
    batches_committed: int = 0
    events_committed: int = 0
    commit_failures: int = 0
    commit_seconds: LatencyHistogram = field(default_factory=LatencyHistogram)
    transform_seconds: float = 0.0
    started: float = field(default_factory=time.time)
    # Read at scrape time from the queue that owns them.
    queue_depth: Callable[[], tuple[int, int]] = lambda: (0, 0)
    queue_capacity: tuple[int, int] = (0, 0)
    queue_peak_events: int = 0  # the most events ever queued at once
    replayed: int = 0  # records queued again from the receive log at start
    # Read at scrape time from the receive log, when there is one.
    receive_log: Callable[[], tuple[int, int]] | None = None  # (records synced, failures)

    def source(self, name: str, kind: str) -> SourceMetrics:
        """The counters of source ``name``, created on first use."""
        found = self.sources.get(name)
        if found is None:
            found = self.sources[name] = SourceMetrics(name, kind)
        return found

    def render(self) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        out: list[str] = []
        per_source: list[tuple[str, str, str, Callable[[SourceMetrics], int]]] = [
            ("received", "counter", "Records that arrived.", lambda s: s.received),
            ("parsed", "counter", "Records stored as events.", lambda s: s.parsed),
            ("failed", "counter", "Records kept as dead letters.", lambda s: s.failed),
            ("dropped", "counter", "Records dropped and counted.", lambda s: s.dropped),
            ("bytes", "counter", "Bytes received.", lambda s: s.bytes),
        ]
        sources = sorted(self.sources.values(), key=lambda s: s.name)
        for metric, kind, help_text, value in per_source:
            name = f"heron_source_{metric}_total"
            _header(out, name, kind, help_text)
            for s in sources:
                out.append(f"{name}{_labels(s)} {value(s)}")
        _header(out, "heron_source_connections", "gauge", "Open connections.")
        for s in sources:
            out.append(f"heron_source_connections{_labels(s)} {s.connections}")
        name = "heron_source_kernel_dropped_total"
        _header(out, name, "counter", "Datagrams the kernel dropped (socket buffer full).")
        for s in sources:
            if s.kernel_drops is not None:
                out.append(f"{name}{_labels(s)} {s.kernel_drops()}")
        name = "heron_source_rejected_total"
        _header(out, name, "counter", "Whole requests or connections refused, by reason.")
        for s in sources:
            for reason, n in sorted(s.rejected.items()):
                out.append(f"{name}{_labels(s, reason=reason)} {n}")
        events, nbytes = self.queue_depth()
        cap_events, cap_bytes = self.queue_capacity
        _gauge(out, "heron_queue_events", "Events waiting for or in the pipeline.", events)
        _gauge(out, "heron_queue_bytes", "Bytes waiting for or in the pipeline.", nbytes)
        _gauge(
            out,
            "heron_queue_peak_events",
            "Most events queued at once since start.",
            self.queue_peak_events,
        )
        _gauge(out, "heron_queue_capacity_events", "Queue bound in events.", cap_events)
        _gauge(out, "heron_queue_capacity_bytes", "Queue bound in bytes.", cap_bytes)
        _counter(out, "heron_batches_committed_total", "Batches committed.", self.batches_committed)
        _counter(out, "heron_events_committed_total", "Events committed.", self.events_committed)
        _counter(
            out, "heron_commit_failures_total", "Batches whose commit failed.", self.commit_failures
        )
        _counter(
            out,
            "heron_transform_seconds_total",
            "Time spent parsing to detecting.",
            round(self.transform_seconds, 6),
        )
        _histogram(
            out, "heron_commit_seconds", "Time to commit one batch durably.", self.commit_seconds
        )
        _counter(
            out,
            "heron_receive_log_replayed_total",
            "Records stored again from the receive log after a restart.",
            self.replayed,
        )
        if self.receive_log is not None:
            synced, failures = self.receive_log()
            _counter(out, "heron_receive_log_synced_total", "Records synced to the log.", synced)
            _counter(
                out,
                "heron_receive_log_failures_total",
                "Writes to the receive log that failed (answered after commit instead).",
                failures,
            )
        _gauge(out, "heron_start_time_seconds", "When this server started.", round(self.started, 3))
        return "\n".join(out) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(s: SourceMetrics, **extra: str) -> str:
    pairs: Iterable[tuple[str, str]] = [("source", s.name), ("type", s.type), *extra.items()]
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"


def _header(out: list[str], name: str, kind: str, help_text: str) -> None:
    out.append(f"# HELP {name} {help_text}")
    out.append(f"# TYPE {name} {kind}")


def _gauge(out: list[str], name: str, help_text: str, value: float) -> None:
    _header(out, name, "gauge", help_text)
    out.append(f"{name} {value}")


def _counter(out: list[str], name: str, help_text: str, value: float) -> None:
    _header(out, name, "counter", help_text)
    out.append(f"{name} {value}")


def _histogram(out: list[str], name: str, help_text: str, h: LatencyHistogram) -> None:
    _header(out, name, "histogram", help_text)
    running = 0
    for bound, n in zip(h.buckets, h.counts, strict=False):
        running += n
        out.append(f'{name}_bucket{{le="{bound}"}} {running}')
    out.append(f'{name}_bucket{{le="+Inf"}} {h.count}')
    out.append(f"{name}_sum {round(h.total, 6)}")
    out.append(f"{name}_count {h.count}")
