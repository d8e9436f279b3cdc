"""``type: tail``: files followed as they grow, with checkpoints that survive restarts.

Files are found by glob patterns at each poll and known by (device, inode), so a file
renamed by rotation is still the same file: it is read to its end through the open
descriptor, then let go, while the new file at the old name is read from its start.
A file that got shorter, or whose first bytes changed (``copytruncate``), is read again
from the start. Only complete lines are taken; a last line without its newline is
taken once its file has been rotated away and stopped growing.

After each chunk is committed, the offset reached is written to
``<data-dir>/state/tail.json`` (atomically: temporary file, fsync, rename). A restart
continues from there, so committed lines are not read again and none are skipped;
only a crash between a commit and its checkpoint write (a few milliseconds) can
repeat that one chunk. To catch up on a file rotated while Heron was stopped, let the
pattern match rotated names too (``/var/log/app.log*``); gzip files are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heron.config import TailSourceConfig
from heron.model.deadletter import RAW_KEEP_BYTES, DeadLetter
from heron.model.timeutil import now_ns
from heron.sources.base import ListenPort, SourceRuntime
from heron.sources.file import GZIP_MAGIC, RawChunk
from heron.sources.headed import HEADED_KINDS, Headed, directives_before, headed_kind

__all__ = ["TailCheckpoints", "TailSource"]

log = logging.getLogger(__name__)

READ_BYTES = 1024 * 1024
FINGERPRINT_BYTES = 256
_BOM = b"\xef\xbb\xbf"


class TailCheckpoints:
    """The offsets reached in every followed file, by source, saved atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, dict[str, dict[str, Any]]] | None = None  # read on first use

    def _load(self) -> dict[str, dict[str, dict[str, Any]]]:
        if self._data is None:
            self._data = {}
            if self.path.exists():
                try:
                    loaded = json.loads(self.path.read_text(encoding="utf-8"))
                    self._data = dict(loaded.get("sources", {}))
                except (OSError, ValueError, AttributeError) as exc:
                    # A damaged state file must not stop the server; files are re-read.
                    log.error(
                        "cannot read %s (%s): files will be read from their start", self.path, exc
                    )
        return self._data

    def files(self, source: str) -> dict[str, dict[str, Any]]:
        """The checkpoints of one source by file key (``dev:inode``); edit in place."""
        return self._load().setdefault(source, {})

    def save(self) -> None:
        """Write the state file atomically and durably."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        data = json.dumps({"version": 1, "sources": self._load()}, sort_keys=True)
        with tmp.open("w", encoding="utf-8") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fingerprint(fd: int, length: int) -> str:
    return hashlib.sha256(os.pread(fd, length, 0)).hexdigest()


@dataclass
class _Followed:
    key: str
    path: str
    fd: int
    offset: int = 0
    fp_len: int = 0
    fp: str = ""
    gone: bool = False  # no longer matched at its path (rotated away or deleted)
    last_size: int = -1
    stable_polls: int = 0  # polls in a row that found the size unchanged
    skip_head: bytes | None = None  # inside a line over the limit
    skip_size: int = 0
    # Zeek TSV or W3C (IIS): the header state its data lines are read through.
    headed: Headed | None = None
    decided: bool = False  # whether the file was looked at for a header yet


class TailSource:
    """Follows the files matching ``paths`` and hands their new lines to the intake."""

    type = "tail"

    def __init__(self, config: TailSourceConfig, name: str, checkpoints: TailCheckpoints) -> None:
        self.config = config
        self.name = name
        self.checkpoints = checkpoints
        self._files: dict[str, _Followed] = {}
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._runtime: SourceRuntime | None = None
        self._first_poll = True

    def ports(self) -> list[ListenPort]:
        return []

    async def start(self, runtime: SourceRuntime) -> None:
        self._runtime = runtime
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._follow(), name=f"tail:{self.name}")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=30)
            except TimeoutError:
                self._task.cancel()
            self._task = None
        for followed in self._files.values():
            with contextlib.suppress(OSError):
                os.close(followed.fd)
        self._files.clear()

    async def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                progressed = await self.poll()
            except Exception:
                log.exception("tail %s: poll failed", self.name)
                progressed = False
            if not progressed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.config.poll_ms / 1000)

    # -- one round ------------------------------------------------------------------------

    def _discover(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for pattern in self.config.paths:
            for path in sorted(glob.glob(pattern)):
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                if not os.path.isfile(path):
                    continue
                found.setdefault(f"{st.st_dev}:{st.st_ino}", path)
        return found

    def _open(self, key: str, path: str) -> _Followed | None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            log.warning("tail %s: cannot open %s: %s", self.name, path, exc)
            return None
        if os.pread(fd, 2, 0) == GZIP_MAGIC:
            os.close(fd)
            return None
        size = os.fstat(fd).st_size
        followed = _Followed(key, path, fd)
        saved = self.checkpoints.files(self.name).get(key)
        if saved is not None:
            fp_len = int(saved.get("fp_len", 0))
            if size >= int(saved.get("offset", 0)) and _fingerprint(fd, fp_len) == saved.get("fp"):
                followed.offset = int(saved["offset"])
                followed.fp_len, followed.fp = fp_len, str(saved["fp"])
                headed = saved.get("headed")
                if isinstance(headed, dict) and headed.get("kind") in HEADED_KINDS:
                    directives = [str(d) for d in headed.get("directives", [])]
                    followed.headed = Headed(str(headed["kind"]), path, directives)
                    followed.decided = True
        elif self._first_poll and self.config.start_at == "end":
            followed.offset = size
        return followed

    async def poll(self) -> bool:
        """Read what is new in every file once; True when anything was read."""
        found = self._discover()
        for key, path in found.items():
            followed = self._files.get(key)
            if followed is None:
                opened = self._open(key, path)
                if opened is None:
                    continue
                followed = self._files[key] = opened
            followed.path, followed.gone = path, False
        for key, followed in self._files.items():
            if key not in found:
                followed.gone = True
        if self._first_poll:
            # Checkpoints of files that no longer exist are of no use.
            saved = self.checkpoints.files(self.name)
            for key in [k for k in saved if k not in self._files]:
                del saved[key]
            self._first_poll = False
        progressed = False
        for key in [k for k, f in self._files.items() if f.fd < 0]:
            del self._files[key]  # closed by a round that failed half-way
        for followed in self._files.values():
            size = os.fstat(followed.fd).st_size
            followed.stable_polls = followed.stable_polls + 1 if size == followed.last_size else 0
            followed.last_size = size
        # Rotated-away files first: their lines are older than the new file's.
        for followed in sorted(self._files.values(), key=lambda f: not f.gone):
            while not self._stop.is_set() and await self._read(followed):
                progressed = True
        for key in [k for k, f in self._files.items() if f.fd < 0]:
            del self._files[key]
            self.checkpoints.files(self.name).pop(key, None)
        return progressed

    async def _read(self, f: _Followed) -> bool:
        """Hand in one chunk of new lines of ``f``; False when there was nothing new."""
        runtime = self._runtime
        assert runtime is not None
        size = os.fstat(f.fd).st_size
        if size < f.offset or (
            f.fp_len and size >= f.fp_len and _fingerprint(f.fd, f.fp_len) != f.fp
        ):
            log.info(
                "tail %s: %s was truncated or replaced; reading it from the start",
                self.name,
                f.path,
            )
            f.offset, f.fp_len, f.fp, f.skip_head = 0, 0, "", None
            f.headed, f.decided = None, False
        if size == f.offset:
            if f.gone and f.stable_polls > 0:
                os.close(f.fd)
                f.fd = -1
            return False
        if not f.decided and not self._decide(f):
            return False  # its first line is not complete yet
        limit = runtime.max_line_bytes
        data = os.pread(f.fd, max(READ_BYTES, limit + 1), f.offset)
        if not data:
            return False
        chunk = RawChunk(f.path, self.config.format)
        received = now_ns()
        start = f.offset
        if f.skip_head is not None:
            end = data.find(b"\n")
            if end < 0:
                f.skip_size += len(data)
                return await self._commit(f, chunk, f.offset + len(data), 0)
            chunk.dead_letters.append(self._overlong(f, f.skip_head, f.skip_size + end, received))
            f.skip_head = None
            data = data[end + 1 :]
            start += end + 1
        cut = data.rfind(b"\n")
        if cut < 0:
            if len(data) > limit:
                f.skip_head, f.skip_size = data[:RAW_KEEP_BYTES], len(data)
                return await self._commit(f, chunk, start + len(data), 0)
            final = f.gone and f.stable_polls > 0 and start + len(data) == size
            if not (final and data):
                return await self._commit(f, chunk, start, 0) if chunk.dead_letters else False
            cut = len(data)  # the rotated file's last line, without its newline
        body = data[:cut]
        position = start
        for line in body.split(b"\n"):
            line_start = position
            position += len(line) + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            if line_start == 0 and line.startswith(_BOM):
                line = line[len(_BOM) :]
            if not line.strip():
                continue
            where = f"offset {line_start}"
            if len(line) > limit:
                chunk.dead_letters.append(
                    DeadLetter(
                        f.path,
                        f"line longer than the limit of {limit} bytes ({len(line)} bytes)",
                        line[:RAW_KEEP_BYTES].decode("utf-8", "backslashreplace"),
                        where,
                        received,
                        len(line),
                    )
                )
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                chunk.dead_letters.append(
                    DeadLetter.of(
                        f.path, f"invalid UTF-8 at byte {exc.start}", line, where, received
                    )
                )
                continue
            chunk.records.append(text)
            chunk.locations.append(where)
        end_offset = min(start + cut + 1, start + len(data))
        headed = f.headed
        if headed is None:
            return await self._commit(f, chunk, end_offset, len(body))
        before = list(headed.directives)
        headed.convert(chunk, received)
        if await self._commit(f, chunk, end_offset, len(body)):
            return True
        # Not committed: these lines are read again, through the header they came after.
        f.headed = Headed(headed.kind, f.path, before)
        return False

    def _decide(self, f: _Followed) -> bool:
        """Whether ``f`` is read through a header (Zeek TSV, W3C), from its first line or
        the configured format; False while that line is incomplete."""
        head = os.pread(f.fd, 4096, 0)
        if head.startswith(_BOM):
            head = head[len(_BOM) :]
        if b"\n" not in head and len(head) < 4096 and not f.gone:
            return False
        fmt = self.config.format
        kind = headed_kind(head)
        if fmt == "iis":
            kind = "iis"
        elif fmt not in ("auto", "zeek") or (fmt == "zeek" and kind != "zeek_tsv"):
            kind = None  # another format was asked for, or Zeek as JSON lines
        if kind is not None:
            # Started in the middle (``start_at: end``, a checkpoint of an older Heron):
            # the header is read from the lines before.
            f.headed = Headed(kind, f.path, directives_before(f.fd, f.offset))
        f.decided = True
        return True

    def _overlong(self, f: _Followed, head: bytes, size: int, received: int) -> DeadLetter:
        limit = self._runtime.max_line_bytes if self._runtime else 0
        return DeadLetter(
            f.path,
            f"line longer than the limit of {limit} bytes ({size} bytes)",
            head.decode("utf-8", "backslashreplace"),
            f"offset {f.offset}",
            received,
            size,
        )

    async def _commit(self, f: _Followed, chunk: RawChunk, offset: int, nbytes: int) -> bool:
        runtime = self._runtime
        assert runtime is not None
        if chunk.records or chunk.dead_letters:
            runtime.metrics.received += len(chunk.records) + len(chunk.dead_letters)
            future = await runtime.intake.submit(
                [chunk], runtime.metrics, nbytes=nbytes, from_file=True
            )
            assert future is not None
            try:
                await future
            except Exception as exc:
                # Not committed: keep the old offset, so these lines are read again.
                log.error("tail %s: commit failed for %s: %s", self.name, f.path, exc)
                await asyncio.sleep(1)
                return False
        f.offset = offset
        if f.fp_len < FINGERPRINT_BYTES:
            f.fp_len = min(FINGERPRINT_BYTES, os.fstat(f.fd).st_size, offset)
            f.fp = _fingerprint(f.fd, f.fp_len)
        saved: dict[str, Any] = {
            "path": f.path,
            "offset": f.offset,
            "fp_len": f.fp_len,
            "fp": f.fp,
        }
        if f.headed is not None:
            saved["headed"] = {"kind": f.headed.kind, "directives": f.headed.directives}
        self.checkpoints.files(self.name)[f.key] = saved
        self.checkpoints.save()
        return True
