"""Shared fixtures: where the corpora are, and a fresh data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CORPORA = PROJECT_ROOT.parent / "shared" / "corpora"


@pytest.fixture(scope="session")
def corpora() -> Path:
    """``../shared/corpora``; tests that need it skip where it is absent."""
    if not CORPORA.is_dir():
        pytest.skip(f"test corpora not found at {CORPORA} (see shared/corpora/README.md)")
    return CORPORA


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "heron-data"
