"""The audit trail: an append-only, hash-chained JSON-lines file under ``<data-dir>/audit/``.

Each record carries ``seq``, the sha256 of the previous record (``prev``) and its own
``hash`` (sha256 over the record's canonical JSON without ``hash``: sorted keys, no
spaces). Editing a record breaks its hash; removing or reordering records breaks the
``seq``/``prev`` chain. A chain alone cannot show that the *last* records were cut
off, so a ``head`` file beside the log keeps the seq and hash of the last record:
``verify`` reports a log that ends before its head. (Whoever can rewrite both files
and recompute every hash can forge history; ``verify`` prints the head hash so it can
be kept somewhere else and compared.)

Appends from several processes (``heron serve``, CLI commands) are serialized by an
``fcntl`` lock on ``audit.lock``; every record is fsynced before ``append`` returns.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from heron.errors import HeronError

__all__ = ["GENESIS", "AuditError", "AuditLog", "AuditRecord", "Verification"]

GENESIS = "0" * 64
LOG_NAME = "audit.jsonl"
HEAD_NAME = "head"
LOCK_NAME = "audit.lock"
#: Details larger than this are cut: the log records actions, not payloads.
MAX_DETAIL_BYTES = 16 * 1024


class AuditError(HeronError):
    """The audit log cannot be written or read."""


def _canonical(fields: Mapping[str, Any]) -> bytes:
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)


def record_hash(fields: Mapping[str, Any]) -> str:
    """sha256 of a record's canonical JSON, ``hash`` itself left out."""
    body = {k: v for k, v in fields.items() if k != "hash"}
    return hashlib.sha256(_canonical(body)).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    time: int  # ns since the epoch, UTC
    actor: str
    action: str
    target: str | None
    details: dict[str, Any]
    client: str | None
    prev: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "details": self.details,
            "client": self.client,
            "prev": self.prev,
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True)
class Verification:
    """The result of ``verify``: ok, records checked, and the first bad one."""

    ok: bool
    records: int
    head: str
    bad_line: int | None = None
    bad_seq: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": self.records,
            "head": self.head,
            "bad_line": self.bad_line,
            "bad_seq": self.bad_seq,
            "reason": self.reason,
        }


def _bounded(details: Mapping[str, Any] | None) -> dict[str, Any]:
    if not details:
        return {}
    out = orjson.loads(orjson.dumps(dict(details), default=str))
    if len(orjson.dumps(out)) > MAX_DETAIL_BYTES:
        return {"truncated": True, "keys": sorted(str(k) for k in out)[:50]}
    return dict(out)


class AuditLog:
    """The audit log of one data directory."""

    def __init__(self, data_dir: Path | str) -> None:
        self.dir = Path(data_dir) / "audit"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / LOG_NAME
        self.head_path = self.dir / HEAD_NAME
        self._lock_path = self.dir / LOCK_NAME
        self._thread_lock = threading.Lock()

    # -- writing --------------------------------------------------------------------

    def append(
        self,
        actor: str,
        action: str,
        target: str | None = None,
        details: Mapping[str, Any] | None = None,
        client: str | None = None,
    ) -> AuditRecord:
        """Append one record, chained to the last, durable when this returns."""
        with self._thread_lock, open(self._lock_path, "a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                seq, prev = self._last()
                fields: dict[str, Any] = {
                    "seq": seq + 1,
                    "time": time.time_ns(),
                    "actor": str(actor),
                    "action": str(action),
                    "target": None if target is None else str(target),
                    "details": _bounded(details),
                    "client": client,
                    "prev": prev,
                }
                fields["hash"] = record_hash(fields)
                line = _canonical(fields) + b"\n"
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, line)
                    os.fsync(fd)
                finally:
                    os.close(fd)
                self._write_head(fields["seq"], fields["hash"])
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
        return AuditRecord(**fields)

    def _write_head(self, seq: int, digest: str) -> None:
        tmp = self.head_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, f"{seq} {digest}\n".encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.head_path)

    def _last(self) -> tuple[int, str]:
        """seq and hash of the last record (0 and the genesis hash for an empty log)."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return 0, GENESIS
        if size == 0:
            return 0, GENESIS
        with open(self.path, "rb") as f:
            # Read backwards until the start of the last complete line.
            block = 4096
            end = size
            tail = b""
            while True:
                start = max(0, end - block)
                f.seek(start)
                tail = f.read(end - start) + tail
                body = tail.rstrip(b"\n")
                cut = body.rfind(b"\n")
                if cut >= 0 or start == 0:
                    last = body[cut + 1 :]
                    break
                end = start
                block *= 2
        try:
            fields = orjson.loads(last)
            return int(fields["seq"]), str(fields["hash"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise AuditError(
                f"{self.path}: the last record is damaged ({exc}); run 'heron audit verify'"
            ) from None

    # -- reading --------------------------------------------------------------------

    def records(self) -> Iterator[AuditRecord]:
        """Every record, oldest first (damaged lines raise ``AuditError``)."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as f:
            for number, line in enumerate(f, 1):
                try:
                    yield AuditRecord(**orjson.loads(line))
                except (orjson.JSONDecodeError, TypeError) as exc:
                    raise AuditError(f"{self.path}:{number}: damaged record ({exc})") from None

    def head(self) -> tuple[int, str] | None:
        try:
            seq, digest = self.head_path.read_text(encoding="ascii").split()
            return int(seq), digest
        except (FileNotFoundError, ValueError):
            return None

    def verify(self) -> Verification:
        """Check every record's hash and the chain; name the first bad record."""
        expected_seq, prev = 1, GENESIS
        count = 0
        if self.path.exists():
            with open(self.path, "rb") as f:
                for number, line in enumerate(f, 1):
                    problem, seq = _check_line(line, expected_seq, prev)
                    if problem is not None:
                        return Verification(False, count, prev, number, seq, problem)
                    fields = orjson.loads(line)
                    prev = fields["hash"]
                    expected_seq += 1
                    count += 1
        head = self.head()
        if head is None and count:
            return Verification(False, count, prev, None, None, "the head file is missing")
        if head is not None:
            head_seq, head_hash = head
            if head_seq > count:
                return Verification(
                    False,
                    count,
                    prev,
                    count + 1,
                    count + 1,
                    f"the log ends at record {count} but the head names record {head_seq}: "
                    "records were removed from the end (truncated)",
                )
            if head_seq != count or head_hash != prev:
                return Verification(
                    False,
                    count,
                    prev,
                    head_seq,
                    head_seq,
                    f"the head (record {head_seq}, {head_hash[:12]}…) does not match the log",
                )
        return Verification(True, count, prev)


def _check_line(line: bytes, expected_seq: int, prev: str) -> tuple[str | None, int | None]:
    if not line.endswith(b"\n"):
        return "the last line is incomplete (truncated)", None
    try:
        fields = orjson.loads(line)
    except orjson.JSONDecodeError:
        return "not a JSON record (edited or damaged)", None
    if not isinstance(fields, dict) or "hash" not in fields or "seq" not in fields:
        return "not an audit record (edited or damaged)", None
    seq = fields.get("seq")
    if record_hash(fields) != fields["hash"]:
        return "its hash does not match its content (edited)", seq
    if seq != expected_seq:
        return (
            f"expected record {expected_seq}, found record {seq} (records removed or reordered)",
            seq,
        )
    if fields.get("prev") != prev:
        return "it does not chain to the record before it (removed or reordered)", seq
    return None, seq
