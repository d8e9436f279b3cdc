"""Where the shared corpora are (None when absent: UI tests then use their own lines only)."""

from __future__ import annotations

from pathlib import Path

CORPORA = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpora"


def corpora_or_none() -> Path | None:
    return CORPORA if CORPORA.is_dir() else None
