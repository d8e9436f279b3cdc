"""The compiled-rule cache: one entry per rule file, keyed by the file's content.

The key hashes the file's bytes with Heron's version, the compiler version, pySigma's
version and the placeholder values, so an edited file, a new Heron or a new pySigma
simply misses and is compiled again; nothing is ever invalidated by time or path.
Entries are pickles of Heron's own compiled form (``heron.detect.sigma.ir``), never of
pySigma objects, written atomically (temporary file, then rename).

The cache directory belongs to the user running Heron (``<data-dir>/cache/rules`` by
default); entries are only read from there, as trusted as the data directory itself.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from heron import __version__ as heron_version
from heron.detect.sigma.ir import (
    COMPILER_VERSION,
    CompiledRule,
    CorrelationSpec,
    FilterSpec,
    LoadError,
)

__all__ = [
    "FileEntry",
    "RuleCache",
    "default_cache_dir",
    "entry_key",
    "read_pickle",
    "rule_set_key",
    "write_pickle",
]


def _pysigma_version() -> str:
    try:
        return version("pysigma")
    except PackageNotFoundError:  # pragma: no cover - pySigma is a dependency
        return "unknown"


#: Rule-set bundles kept (see ``RuleCache.put_bundle``).
MAX_BUNDLES = 8

_SALT = f"heron={heron_version};compiler={COMPILER_VERSION};pysigma={_pysigma_version()}"


@dataclass(slots=True)
class FileEntry:
    """What one rule file compiled to (errors included: a broken file stays broken)."""

    rules: list[CompiledRule] = field(default_factory=list)
    correlations: list[CorrelationSpec] = field(default_factory=list)
    filters: list[FilterSpec] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)


def entry_key(data: bytes, path: str, options: str = "") -> str:
    """The cache key of a file: its bytes, its path (errors and filenames name it), versions."""
    digest = hashlib.sha256()
    digest.update(_SALT.encode())
    digest.update(b"\0")
    digest.update(options.encode())
    digest.update(b"\0")
    digest.update(path.encode("utf-8", "surrogateescape"))
    digest.update(b"\0")
    digest.update(data)
    return digest.hexdigest()


def rule_set_key(keys: Sequence[str]) -> str:
    """The key of a rule set: its files' keys (``entry_key``) in load order."""
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()


def default_cache_dir(data_dir: Path | str | None = None) -> Path:
    """``<data-dir>/cache/rules``, or ``$XDG_CACHE_HOME/heron/rules`` (``~/.cache``)."""
    if data_dir is not None:
        return Path(data_dir) / "cache" / "rules"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "heron" / "rules"


class RuleCache:
    """Compiled rule files on disk, one pickle each, under ``<dir>/<key[:2]>/<key>``."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.pickle"

    def get(self, key: str) -> FileEntry | None:
        """The entry, or None when absent or unreadable (then it is compiled again)."""
        entry = read_pickle(self._path(key))
        return entry if isinstance(entry, FileEntry) else None

    def _bundle_path(self, keys: Sequence[str]) -> Path:
        return self.directory / "bundles" / f"{rule_set_key(keys)}.pickle"

    def get_bundle(self, keys: Sequence[str]) -> list[FileEntry] | None:
        """The entries of exactly these files (keys in load order) from one bundle, or
        None: one read and one unpickling instead of one per rule file."""
        entries = read_pickle(self._bundle_path(keys))
        if (
            not isinstance(entries, list)
            or len(entries) != len(keys)
            or not all(isinstance(e, FileEntry) for e in entries)
        ):
            return None
        return entries

    def put_bundle(self, keys: Sequence[str], entries: Sequence[FileEntry]) -> None:
        """Store the entries of a rule set as one bundle; the oldest beyond
        ``MAX_BUNDLES`` go (each edit of a rule file makes a new set)."""
        path = self._bundle_path(keys)
        write_pickle(path, list(entries))
        try:
            bundles = sorted(path.parent.glob("*.pickle"), key=lambda p: p.stat().st_mtime)
            for old in bundles[:-MAX_BUNDLES]:
                old.unlink(missing_ok=True)
        except OSError:
            return

    def put(self, key: str, entry: FileEntry) -> None:
        """Store an entry; a cache that cannot be written only costs speed, never rules."""
        write_pickle(self._path(key), entry)


def write_pickle(path: Path, obj: object) -> None:
    """Store ``obj`` at ``path`` atomically (temporary file, then rename); a cache that
    cannot be written only costs speed, never rules."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pickle")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return


def read_pickle(path: Path) -> object | None:
    """What a cache file holds, or None when it is absent or cannot be unpickled."""
    try:
        with path.open("rb") as fh:
            loaded: object = pickle.load(fh)
    except (
        OSError,
        pickle.UnpicklingError,
        EOFError,
        AttributeError,
        ImportError,
        TypeError,
        ValueError,
    ):
        return None
    return loaded
