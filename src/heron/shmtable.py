"""Arrow tables handed from worker processes to the parent through shared memory.

A worker's result travels to the parent pickled through a pipe. For an Arrow table
that means three copies of every byte (pickle, pipe, unpickle), and in a bulk load the
tables are nearly all of the data: 1.4 KB an event on the mixed benchmark corpus.
Wrapped in ``SharedTable``, a table is written once as an Arrow IPC file in shared
memory (``/dev/shm``) and only its name goes through the pipe; the parent maps the
file (no copy) and unlinks it at once, so the memory goes when the table does.

Files are named after the pool that owns them (``owner_tag``: its process id and a
token), so a pool removes what it left behind when it closes, and ``sweep`` removes the
files of processes that are gone (a parent killed between a worker's write and its read).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa

from heron.processes import alive

__all__ = ["SHM_DIR", "SharedTable", "load_shared", "owner_tag", "sweep"]

#: Where tables wait for the parent: memory-backed on Linux.
SHM_DIR = Path("/dev/shm")
_PREFIX = "heron-table-"


class SharedTable:
    """Pickles as a shared-memory file name; unpickles as the ``pa.Table`` itself.

    Without shared memory (no ``/dev/shm``, or it is full) the table pickles as usual.
    """

    __slots__ = ("owner", "table")

    def __init__(self, table: pa.Table, owner: str) -> None:
        self.table = table
        self.owner = owner

    def __reduce__(self) -> tuple[Any, ...]:
        path = SHM_DIR / f"{_PREFIX}{self.owner}-{uuid.uuid4().hex}.arrow"
        try:
            with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, self.table.schema) as w:
                w.write_table(self.table)
        except (OSError, pa.ArrowException):
            with contextlib.suppress(OSError):
                path.unlink()
            return (_identity, (self.table,))
        return (load_shared, (str(path),))


def _identity(table: pa.Table) -> pa.Table:
    return table


def load_shared(path: str) -> pa.Table:
    """The table in ``path``, memory-mapped; the file is unlinked (the mapping stays)."""
    try:
        source = pa.memory_map(path, "r")
        return pa.ipc.open_file(source).read_all()
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def owner_tag() -> str:
    """A name for one pool's files: this process's id, then a token of its own."""
    return f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


def sweep(owner: str | None = None) -> int:
    """Remove the table files of ``owner``, or of every process that no longer runs."""
    removed = 0
    try:
        entries = list(SHM_DIR.glob(f"{_PREFIX}*.arrow"))
    except OSError:
        return 0
    for path in entries:
        name = path.name[len(_PREFIX) :]
        if owner is not None:
            if not name.startswith(f"{owner}-"):
                continue
        else:
            pid_text = name.split("-", 1)[0]
            if not pid_text.isdigit() or alive(int(pid_text)):
                continue
        with contextlib.suppress(OSError):
            path.unlink()
            removed += 1
    return removed
