"""Heron's own rule pack (Sigma, in ``builtin/``) and where to find it."""

from __future__ import annotations

from pathlib import Path

__all__ = ["BUILTIN_DIR", "builtin_rule_paths", "builtin_test_paths"]

#: The folder of the built-in rules, shipped as package data.
BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"


def builtin_rule_paths() -> list[Path]:
    """The built-in rule files, sorted (tests under ``builtin/tests`` are not rules)."""
    return sorted(p for p in BUILTIN_DIR.glob("*.yml") if p.is_file())


def builtin_test_paths() -> list[Path]:
    """The ``heron rules test`` files that check the built-in rules."""
    return sorted(p for p in (BUILTIN_DIR / "tests").glob("*.yml") if p.is_file())
