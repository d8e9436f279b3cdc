"""Arrow tables from worker processes through shared memory (heron.shmtable)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from heron import shmtable
from heron.shmtable import SharedTable, owner_tag, sweep

pytestmark = pytest.mark.skipif(not shmtable.SHM_DIR.is_dir(), reason="no /dev/shm on this machine")


def _table() -> pa.Table:
    return pa.table({"n": list(range(1000)), "text": [f"line {i}" for i in range(1000)]})


def _files(owner: str) -> list[Path]:
    return list(shmtable.SHM_DIR.glob(f"heron-table-{owner}-*.arrow"))


def test_a_table_pickles_as_a_file_and_comes_back_whole() -> None:
    owner = owner_tag()
    blob = pickle.dumps(SharedTable(_table(), owner))
    assert len(blob) < 500  # the name, not the data
    assert len(_files(owner)) == 1
    table = pickle.loads(blob)
    assert table.equals(_table())
    assert _files(owner) == []  # unlinked once mapped; the mapping keeps the data


def test_without_shared_memory_the_table_pickles_inline(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(shmtable, "SHM_DIR", tmp_path / "absent")
    blob = pickle.dumps(SharedTable(_table(), owner_tag()))
    assert len(blob) > 1000
    assert pickle.loads(blob).equals(_table())


def test_a_closing_pool_removes_its_own_files_and_only_those() -> None:
    mine, other = owner_tag(), owner_tag()
    pickle.dumps(SharedTable(_table(), mine))
    left = pickle.dumps(SharedTable(_table(), other))
    assert sweep(mine) == 1
    assert _files(mine) == []
    assert len(_files(other)) == 1
    pickle.loads(left)


def test_files_of_a_process_that_is_gone_are_swept() -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = f"{int(gone.stdout)}-deadbeef"
    alive = f"{os.getpid()}-cafebabe"
    pickle.dumps(SharedTable(_table(), dead))
    kept = pickle.dumps(SharedTable(_table(), alive))
    sweep()
    assert _files(dead) == []
    assert len(_files(alive)) == 1
    pickle.loads(kept)
