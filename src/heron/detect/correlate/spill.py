"""Held correlation matches on disk: what a bulk load holds beyond its memory limit.

A bulk load (``heron ingest``) holds every match until its input ends, because files
read one after another each span the whole period (``CorrelationEngine.hold``). Past
``hold_limit`` held matches, each correlation's pending matches are sorted and written
out as one *run*, a file of JSON lines; at the end the runs and what is still in memory
are merged in application order and applied one by one, so memory stays bounded and
nothing is late.

Runs live in a folder of their own, named after the process, beside the correlation
state (or in the system's temporary folder). The folder goes when the engine has
applied the runs; a load that crashes leaves it, and the next engine with that state
folder removes it once its process is gone.
"""

from __future__ import annotations

import contextlib
import heapq
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import orjson

from heron.detect.correlate.window import Contribution, GroupKey, application_order
from heron.processes import alive

__all__ = ["SPILL_PREFIX", "SpilledRuns"]

SPILL_PREFIX = "correlation-spill-"
#: Runs of one rule merged into one before another is added: open files stay few.
MAX_RUNS = 32

Pending = tuple[GroupKey, Contribution]


def _read_run(path: Path) -> Iterator[Pending]:
    with path.open("rb") as f:
        for line in f:
            group, contribution = orjson.loads(line)
            yield tuple(group), Contribution.from_json(contribution)


class SpilledRuns:
    """Sorted runs of held matches, per correlation rule id."""

    def __init__(self, parent: Path | None = None) -> None:
        self.parent = parent
        self.folder: Path | None = None
        self._runs: dict[str, list[Path]] = {}
        self._files = 0
        self.written = 0  # matches written out, for stats

    def __bool__(self) -> bool:
        return any(self._runs.values())

    def write(self, rule_id: str, items: Sequence[Pending]) -> None:
        """Write ``items`` (sorted in application order) as one run of ``rule_id``."""
        if not items:
            return
        if self.folder is None:
            if self.parent is not None:
                self.parent.mkdir(parents=True, exist_ok=True)
            prefix = f"{SPILL_PREFIX}{os.getpid()}-"
            self.folder = Path(tempfile.mkdtemp(prefix=prefix, dir=self.parent))
        runs = self._runs.setdefault(rule_id, [])
        if len(runs) >= MAX_RUNS:
            readers = [_read_run(path) for path in runs]
            merged = self._write(heapq.merge(*readers, key=application_order))
            for path in runs:
                path.unlink()
            runs[:] = [merged]
        runs.append(self._write(iter(items)))
        self.written += len(items)

    def _write(self, items: Iterator[Pending]) -> Path:
        assert self.folder is not None
        self._files += 1
        path = self.folder / f"{self._files}.jsonl"
        with path.open("wb") as f:
            for group, contribution in items:
                f.write(orjson.dumps([list(group), contribution.to_json()]))
                f.write(b"\n")
        return path

    def take(self, rule_id: str) -> list[Iterator[Pending]]:
        """Readers of ``rule_id``'s runs, each in application order; they are forgotten."""
        return [_read_run(path) for path in self._runs.pop(rule_id, [])]

    def close(self) -> None:
        """Remove the folder and every run in it."""
        self._runs.clear()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    @staticmethod
    def sweep(parent: Path) -> None:
        """Remove the run folders that processes no longer running left in ``parent``."""
        with contextlib.suppress(OSError):
            for folder in parent.glob(f"{SPILL_PREFIX}*"):
                pid = folder.name[len(SPILL_PREFIX) :].split("-", 1)[0]
                if pid.isdigit() and int(pid) != os.getpid() and not alive(int(pid)):
                    shutil.rmtree(folder, ignore_errors=True)
