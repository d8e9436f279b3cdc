"""Correlation state on disk: ``<data-dir>/state/correlation.sqlite``, one transaction a batch.

SQLite (standard library) rather than a table in the store's DuckDB: the correlation
engine also runs where the store is not open (``heron rules test``, a detector
process), and a batch changes a handful of groups, so each save writes only those rows
in one transaction (WAL, synchronous FULL) instead of rewriting the whole state. A
crash leaves the state of the last committed batch.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from heron.detect.correlate.window import Contribution, GroupKey, GroupState, WindowChanges
from heron.errors import HeronError

__all__ = [
    "STATE_FILE",
    "CorrelationStateError",
    "CorrelationStateFile",
    "SavedState",
    "SavedWindow",
]

STATE_FILE = "correlation.sqlite"
_SCHEMA_VERSION = "1"


class CorrelationStateError(HeronError):
    """The saved correlation state cannot be read or written; names the file."""


@dataclass(slots=True)
class SavedWindow:
    fingerprint: str
    groups: dict[GroupKey, GroupState] = field(default_factory=dict)
    pending: list[tuple[GroupKey, Contribution]] = field(default_factory=list)


@dataclass(slots=True)
class SavedState:
    meta: dict[str, Any] = field(default_factory=dict)
    windows: dict[str, SavedWindow] = field(default_factory=dict)


def _key(group: GroupKey) -> str:
    return orjson.dumps(list(group)).decode()


class CorrelationStateFile:
    """Loads and saves the correlation engine's state."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> CorrelationStateFile:
        return cls(Path(data_dir) / "state" / STATE_FILE)

    def _connect(self) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);"
                "CREATE TABLE IF NOT EXISTS windows (corr TEXT PRIMARY KEY, fingerprint TEXT);"
                "CREATE TABLE IF NOT EXISTS groups (corr TEXT, grp TEXT, state TEXT, "
                "PRIMARY KEY (corr, grp));"
                "CREATE TABLE IF NOT EXISTS pending (corr TEXT, ts INTEGER, grp TEXT, "
                "contribution TEXT);"
                "CREATE INDEX IF NOT EXISTS pending_ts ON pending (corr, ts);"
            )
            row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES ('schema', ?)", [_SCHEMA_VERSION])
            elif row[0] != _SCHEMA_VERSION:
                raise CorrelationStateError(
                    f"{self.path} holds correlation state of another Heron version "
                    f"(schema {row[0]}); move it away to start afresh"
                )
        except sqlite3.Error as exc:
            raise CorrelationStateError(f"cannot open {self.path}: {exc}") from exc
        self._db = db
        return db

    def load(self) -> SavedState | None:
        """The saved state, or None when nothing was saved yet."""
        if not self.path.exists():
            return None
        db = self._connect()
        try:
            state = SavedState()
            for key, value in db.execute("SELECT key, value FROM meta WHERE key <> 'schema'"):
                state.meta[key] = orjson.loads(value)
            for corr, fingerprint in db.execute("SELECT corr, fingerprint FROM windows"):
                state.windows[corr] = SavedWindow(fingerprint)
            for corr, grp, data in db.execute("SELECT corr, grp, state FROM groups"):
                window = state.windows.get(corr)
                if window is not None:
                    window.groups[tuple(orjson.loads(grp))] = GroupState.from_json(
                        orjson.loads(data)
                    )
            for corr, grp, data in db.execute(
                "SELECT corr, grp, contribution FROM pending ORDER BY rowid"
            ):
                window = state.windows.get(corr)
                if window is not None:
                    window.pending.append(
                        (tuple(orjson.loads(grp)), Contribution.from_json(orjson.loads(data)))
                    )
        except (sqlite3.Error, orjson.JSONDecodeError, TypeError, ValueError) as exc:
            raise CorrelationStateError(f"cannot read {self.path}: {exc}") from exc
        return state

    def save(
        self,
        meta: Mapping[str, Any],
        changes: Mapping[str, tuple[str, WindowChanges, Mapping[GroupKey, GroupState], bool]],
    ) -> None:
        """Write one batch's changes: per correlation (fingerprint, changes, groups, reset)."""
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            for key, value in meta.items():
                db.execute(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, orjson.dumps(value).decode()]
                )
            for corr, (fingerprint, change, groups, reset) in changes.items():
                if reset or change.cleared:
                    db.execute("DELETE FROM groups WHERE corr = ?", [corr])
                    db.execute("DELETE FROM pending WHERE corr = ?", [corr])
                elif change.rewrite:
                    db.execute("DELETE FROM groups WHERE corr = ?", [corr])
                db.execute("INSERT OR REPLACE INTO windows VALUES (?, ?)", [corr, fingerprint])
                db.executemany(
                    "DELETE FROM groups WHERE corr = ? AND grp = ?",
                    [(corr, _key(g)) for g in change.removed],
                )
                written = groups if change.rewrite else change.dirty
                db.executemany(
                    "INSERT OR REPLACE INTO groups VALUES (?, ?, ?)",
                    [
                        (corr, _key(g), orjson.dumps(groups[g].to_json()).decode())
                        for g in written
                        if g in groups
                    ],
                )
                if not change.cleared:
                    # Matches applied before this save would be deleted again below.
                    below = change.processed_below
                    db.executemany(
                        "INSERT INTO pending VALUES (?, ?, ?, ?)",
                        [
                            (corr, c.ts, _key(g), orjson.dumps(c.to_json()).decode())
                            for g, c in change.new_pending
                            if below is None or c.ts >= below
                        ],
                    )
                if change.processed_below is not None:
                    db.execute(
                        "DELETE FROM pending WHERE corr = ? AND ts < ?",
                        [corr, change.processed_below],
                    )
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise CorrelationStateError(f"cannot write {self.path}: {exc}") from exc

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
