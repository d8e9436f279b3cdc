"""Rule choices kept in a data directory: uploaded Sigma files and disabled rule ids.

The API writes them (``heron.api.rulebook``); every way of opening a node reads them
(``heron.runtime.open_node`` and the worker processes), so ``heron ingest`` detects
with the same rules as the ``heron serve`` an analyst changed them on.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import orjson

from heron.errors import ConfigError

__all__ = [
    "disabled_rule_ids",
    "rule_paths_with_uploads",
    "rules_state_path",
    "upload_dir",
    "uploaded_rule_files",
]


def upload_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "rules"


def rules_state_path(data_dir: Path) -> Path:
    return Path(data_dir) / "state" / "rules.json"


def uploaded_rule_files(data_dir: Path) -> list[Path]:
    """The Sigma files uploaded through the API, in name order."""
    folder = upload_dir(data_dir)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yml", ".yaml"))


def disabled_rule_ids(data_dir: Path) -> frozenset[str]:
    """Ids of the rules switched off; raises ``ConfigError`` when the file is damaged."""
    path = rules_state_path(data_dir)
    try:
        raw = orjson.loads(path.read_bytes())
        return frozenset(str(i) for i in raw.get("disabled", []))
    except FileNotFoundError:
        return frozenset()
    except (orjson.JSONDecodeError, AttributeError, TypeError) as exc:
        raise ConfigError(f"{path}: damaged ({exc})") from None


def rule_paths_with_uploads(
    base: Sequence[Path] | None, data_dir: Path | None
) -> list[Path] | None:
    """``base`` (None: the built-in pack) plus the uploaded files; None when that is
    just the built-in pack."""
    uploads = uploaded_rule_files(data_dir) if data_dir is not None else []
    if not uploads:
        return list(base) if base is not None else None
    from heron.rules import builtin_rule_paths

    return [*(base if base is not None else builtin_rule_paths()), *uploads]
