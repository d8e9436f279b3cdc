"""Which bytes of its input files ``heron ingest`` reads, from what the ledger
(``heron.store.ledger``) remembers of earlier loads: files read before are named (or,
with ``--skip-ingested``, left out), logs that grew are read on from where the last
load ended, and a last line still being written is left for the next load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from heron.model.timeutil import format_ns
from heron.sources.file import Span
from heron.sources.identity import (
    FileIdentity,
    file_fingerprint,
    file_identity,
    resumable,
    unfinished_tail,
)
from heron.store.ledger import IngestedFile, LedgerEntry

if TYPE_CHECKING:
    from heron.store.duckdb import DuckDBStore

__all__ = ["LoadPlan", "file_identities", "plan_load"]


def file_identities(files: list[Path]) -> dict[Path, FileIdentity]:
    """Each readable, non-empty file's identity (others fail when read, and are not
    remembered)."""
    found: dict[Path, FileIdentity] = {}
    for path in files:
        try:
            identity = file_identity(path)
        except OSError:
            continue
        if identity.size:
            found[path] = identity
    return found


@dataclass(slots=True)
class LoadPlan:
    """What to read of the input files, and what to tell about files read before."""

    files: list[Path]
    spans: dict[Path, Span] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: Files whose unfinished last line is left for the next load: their identity up to
    #: the end of their last whole line, and the bytes left (what the ledger notes).
    held: dict[Path, tuple[FileIdentity, int]] = field(default_factory=dict)

    def ledger_entry(self, path: Path, identity: FileIdentity) -> LedgerEntry:
        """What the ledger notes of a file read to the end of its span."""
        identity, held = self.held.get(path, (identity, 0))
        return LedgerEntry(identity.fingerprint, str(path), identity.size, identity.head, held)


def _earlier(
    store: DuckDBStore, files: list[Path], ids: dict[Path, FileIdentity]
) -> tuple[dict[Path, IngestedFile], dict[Path, IngestedFile]]:
    """Files that are logs read before which have grown since, each with the row of the
    largest earlier state it still starts with; and the others that were read before
    at the same path (other content now), each with its latest row there."""
    heads = sorted({head for f in files if (head := ids[f].head) is not None})
    rows = store.earlier_ingested([str(f) for f in files], heads)
    # Grouped once: a folder of logs loaded every few minutes has many rows per path.
    by_path: dict[str, list[IngestedFile]] = {}
    by_head: dict[str, list[IngestedFile]] = {}
    for row, head in rows:
        by_path.setdefault(row.path, []).append(row)
        if head is not None:
            by_head.setdefault(head, []).append(row)
    grown: dict[Path, IngestedFile] = {}
    changed: dict[Path, IngestedFile] = {}
    for path in files:
        identity = ids[path]
        here = by_path.get(str(path), [])
        if here:
            changed[path] = max(here, key=lambda row: row.last_ingested)
        related = here + (by_head.get(identity.head, []) if identity.head is not None else [])
        unique = {row.fingerprint: row for row in related if row.size < identity.size}
        candidates = sorted(unique.values(), key=lambda row: -row.size)
        for row in candidates:
            try:
                if file_fingerprint(path, row.size) == row.fingerprint:
                    grown[path] = row
                    changed.pop(path, None)
                    break
            except OSError:
                break
    return grown, changed


def _held_back(path: Path, span: Span, row: IngestedFile | None, limit: int) -> int:
    """The bytes of an unfinished last line to leave for the next load (``--skip-ingested``
    on a log still being written): read now, it would be stored cut, and again whole.

    Nothing when a newline ends the span, when the file holds no whole line to note in the
    ledger, or when the last load left this same line and the file has not changed
    since: a line that stays unfinished from one load to the next is taken as it is.
    """
    begin, end = span
    assert end is not None
    tail = unfinished_tail(path, begin, end, limit)
    if tail == 0 or tail == end:
        return 0
    if row is not None and row.held and row.size + row.held == end:
        return 0
    return tail


def plan_load(
    store: DuckDBStore,
    files: list[Path],
    ids: dict[Path, FileIdentity],
    skip: bool,
    fmt: str,
    limit: int,
) -> LoadPlan:
    """Which files to read and which bytes of them: files ingested before with the
    same content are named (left out with ``skip``); logs that have grown since are
    named (with ``skip``, read from where the last load ended, when they are plain line
    files); plain line files are read up to their size now, which the ledger notes,
    and with ``skip`` only up to their last whole line (``_held_back``)."""
    seen = store.ingested_before(sorted({i.fingerprint for i in ids.values()}))
    again = [f for f in files if f in ids and ids[f].fingerprint in seen]
    plan = LoadPlan(files)
    if again:
        first = seen[ids[again[0]].fingerprint]
        example = f"{again[0]} was last ingested {format_ns(first.last_ingested)}"
        if skip:
            left_out = set(again)
            plan.notes.append(
                f"{len(again):,} file(s) left out: ingested into this data directory "
                f"before (same content; {example})"
            )
            plan.files = [f for f in files if f not in left_out]
        else:
            plan.notes.append(
                f"{len(again):,} file(s) were ingested into this data directory before "
                f"(same content; {example}): their events are now stored again "
                "('--skip-ingested' leaves such files out)"
            )
    new = [f for f in plan.files if f in ids and ids[f].fingerprint not in seen]
    grown, changed = _earlier(store, new, ids)
    resumed: list[Path] = []
    whole: dict[str, list[Path]] = {}  # why a grown file is read in full → files
    replaced: list[Path] = []
    finished: list[Path] = []  # whose line left unfinished by the last load is read now
    for path in new:
        if not resumable(path, fmt):
            if path in grown:
                whole.setdefault("a file that is not plain lines is read whole", []).append(path)
            elif path in changed:
                # An EVTX or JSON export written again at its path: most likely the same
                # records and more. (A line log at its path after rotation is new lines.)
                replaced.append(path)
            continue
        row = grown.get(path) if skip else None
        # Up to its size now: a log written meanwhile is read on from there next time.
        begin, end = (row.size if row is not None else 0), ids[path].size
        if row is not None:
            resumed.append(path)
        elif path in grown:
            whole.setdefault("'--skip-ingested' reads only what was added", []).append(path)
        if skip:
            held = _held_back(path, (begin, end), row, limit)
            if held:
                plan.held[path] = (file_identity(path, end - held), held)
                end -= held
            elif row is not None and row.held:
                finished.append(path)
        plan.spans[path] = (begin, end)
    if resumed:
        one = resumed[0]
        plan.notes.append(
            f"{len(resumed):,} file(s) grew since they were ingested into this data "
            f"directory: only what was added is read ({one} from byte "
            f"{grown[one].size:,} of {ids[one].size:,})"
        )
    if plan.held:
        one, (_, held) = next(iter(plan.held.items()))
        plan.notes.append(
            f"{len(plan.held):,} file(s) end in a line still being written, left for the "
            f"next load ({one}: its last {held:,} bytes); a line still unfinished and "
            "unchanged then is read as it is"
        )
    if finished:
        plan.notes.append(
            f"{len(finished):,} file(s) still end in the unfinished line the last load "
            f"left ({finished[0]}): read as it is"
        )
    if replaced:
        one = replaced[0]
        plan.notes.append(
            f"{len(replaced):,} file(s) hold other content than when they were ingested "
            f"into this data directory at the same path ({one}, last ingested "
            f"{format_ns(changed[one].last_ingested)}): read in full; records they "
            "still share with the earlier content (a re-exported log) are stored again"
        )
    for why, paths in whole.items():
        one = paths[0]
        plan.notes.append(
            f"{len(paths):,} file(s) grew since they were ingested into this data "
            f"directory ({one} was {grown[one].size:,} bytes, last ingested "
            f"{format_ns(grown[one].last_ingested)}): read in full, their earlier "
            f"events are stored again ({why})"
        )
    return plan
