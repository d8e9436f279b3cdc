"""Built prefilter indexes on disk: a start with a rule set seen before does not build them.

A group's index (``heron.detect.sigma.index.GroupIndex``) is a pure function of its
rules' conditions, in order, and of the code that derives triggers and builds indexes.
So a stored index is found by

- the rule set: the key of its files' contents in load order (``cache.rule_set_key``),
  given only for rules exactly as ``load_rules`` returned them (see
  ``LoadedRules.index_store``): a rule changed or dropped since gets no store;
- the group: its log source and its rules' positions in the set;
- the code: the bytes of the modules that decide what an index holds, Heron's and
  pyahocorasick's versions.

Any change misses and the index is built (and stored) again. Building the indexes of
the SigmaHQ Windows rules takes about 0.2 s; reading them back about 0.03 s. Each set's
indexes live in one folder under ``<rule cache>/indexes/``; the oldest folders beyond
``MAX_INDEX_SETS`` go.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sys
from collections.abc import Sequence
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from heron import __version__ as heron_version
from heron.detect.sigma import fieldmap, index, ir, literals
from heron.detect.sigma.cache import read_pickle, write_pickle
from heron.detect.sigma.index import GroupIndex
from heron.detect.sigma.ir import LogSource

__all__ = ["MAX_INDEX_SETS", "GroupIndexStore"]

#: Rule sets whose indexes are kept (an index folder of the SigmaHQ Windows rules is
#: about 15 MB: the rule positions are bit sets, stored as they are used).
MAX_INDEX_SETS = 4


@cache
def _code_key() -> str | None:
    """What the index code is, or None when its source cannot be read (no store then)."""
    digest = hashlib.sha256()
    try:
        aho = version("pyahocorasick")
    except PackageNotFoundError:  # pragma: no cover - pyahocorasick is a dependency
        aho = "unknown"
    digest.update(f"heron={heron_version};pyahocorasick={aho};{sys.version_info[:2]}".encode())
    for module in (index, literals, fieldmap, ir):
        if module.__file__ is None:  # pragma: no cover - frozen or sourceless install
            return None
        try:
            digest.update(Path(module.__file__).read_bytes())
        except OSError:  # pragma: no cover - sourceless install
            return None
    return digest.hexdigest()


class GroupIndexStore:
    """The stored group indexes of one rule set, in ``<rule cache>/indexes/<key>/``."""

    def __init__(self, cache_dir: Path, set_key: str) -> None:
        self.root = Path(cache_dir) / "indexes"
        self._set_key = set_key
        #: Indexes read back / built and stored (for tests and diagnostics).
        self.hits = 0
        self.stored = 0
        self._touched = False

    def __reduce__(self) -> tuple[type[GroupIndexStore], tuple[Path, str]]:
        return (GroupIndexStore, (self.root.parent, self._set_key))

    def _folder(self) -> Path | None:
        code = _code_key()
        if code is None:
            return None
        return self.root / hashlib.sha256(f"{self._set_key}\0{code}".encode()).hexdigest()

    @staticmethod
    def _name(logsource: LogSource, positions: Sequence[int]) -> str:
        key = f"{logsource!r}\0{','.join(map(str, positions))}"
        return hashlib.sha256(key.encode()).hexdigest() + ".pickle"

    def get(self, logsource: LogSource, positions: Sequence[int]) -> GroupIndex | None:
        """The stored index of this group, or None (absent, unreadable, not an index)."""
        folder = self._folder()
        if folder is None:
            return None
        found = read_pickle(folder / self._name(logsource, positions))
        if not isinstance(found, GroupIndex) or found.size != len(positions):
            return None
        self.hits += 1
        if not self._touched:
            # Pruning goes by the folders' times: a set in use is kept.
            self._touched = True
            with contextlib.suppress(OSError):
                os.utime(folder)
        return found

    def put(self, logsource: LogSource, positions: Sequence[int], built: GroupIndex) -> None:
        """Keep a freshly built index (before any event touched its memos)."""
        folder = self._folder()
        if folder is None:
            return
        fresh = not folder.is_dir()
        write_pickle(folder / self._name(logsource, positions), built)
        self.stored += 1
        if fresh:
            self._prune(keep=folder)

    def _prune(self, keep: Path) -> None:
        try:
            folders = sorted(
                (p for p in self.root.iterdir() if p.is_dir() and p != keep),
                key=lambda p: p.stat().st_mtime,
            )
        except OSError:
            return
        for old in folders[: max(0, len(folders) - (MAX_INDEX_SETS - 1))]:
            shutil.rmtree(old, ignore_errors=True)
