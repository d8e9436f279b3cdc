"""Rule choices kept in a data directory: uploaded Sigma files, disabled rule ids, and
the values of the placeholders that rules expand (``%name%`` with ``|expand``).

The API writes them (``heron.api.rulebook``); every way of opening a node reads them
(``heron.runtime.open_node`` and the worker processes), so ``heron ingest`` detects
with the same rules as the ``heron serve`` an analyst changed them on. ``heron serve``
also notes which rule files it runs (``state/node-rules.json``): the ``heron rules``
commands that change these choices check a change against that set by default.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import orjson

from heron.errors import ConfigError

__all__ = [
    "disabled_rule_ids",
    "node_rule_paths",
    "placeholders_path",
    "record_node_rules",
    "rule_paths_with_uploads",
    "rule_placeholders",
    "rules_state_path",
    "save_disabled_rule_ids",
    "set_rule_placeholder",
    "upload_dir",
    "uploaded_rule_files",
]

#: A placeholder's name as rules write it between percent signs.
_PLACEHOLDER_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,100}")


def _replace(path: Path, data: bytes) -> None:
    # Written aside, then renamed: a reader (a running node's ``follow_files``) sees the
    # old file or the new one, and each write is a new inode it can tell apart.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


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


def save_disabled_rule_ids(data_dir: Path, disabled: frozenset[str]) -> None:
    """Switch off exactly these rule ids (``heron rules disable``, the API, the web UI)."""
    _replace(rules_state_path(data_dir), orjson.dumps({"disabled": sorted(disabled)}))


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


def placeholders_path(data_dir: Path) -> Path:
    return Path(data_dir) / "state" / "placeholders.json"


def rule_placeholders(data_dir: Path | str | None) -> dict[str, list[str]]:
    """Placeholder name → the values ``|expand`` puts in its place (``heron rules
    placeholders``); raises ``ConfigError`` when the file is damaged."""
    if data_dir is None:
        return {}
    path = placeholders_path(Path(data_dir))
    try:
        raw = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return {}
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{path}: damaged ({exc})") from None
    if not isinstance(raw, dict) or not all(
        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in raw.values()
    ):
        raise ConfigError(f"{path}: damaged (not a map of names to lists of texts)")
    return {str(k): list(v) for k, v in raw.items()}


def set_rule_placeholder(data_dir: Path | str, name: str, values: Sequence[str] | None) -> None:
    """Give a placeholder its values, or none (``values`` None): rules expanding it then
    fail to load until it has some again."""
    if not _PLACEHOLDER_NAME.fullmatch(name):
        raise ConfigError(
            f"{name!r} is not a placeholder name (letters, digits, '_', '.', '-'; "
            "without the percent signs)"
        )
    current = rule_placeholders(data_dir)
    if values is None:
        current.pop(name, None)
    else:
        current[name] = list(values)
    data = orjson.dumps(dict(sorted(current.items())), option=orjson.OPT_INDENT_2)
    _replace(placeholders_path(Path(data_dir)), data)


def _node_rules_path(data_dir: Path) -> Path:
    return Path(data_dir) / "state" / "node-rules.json"


def record_node_rules(data_dir: Path, paths: Sequence[Path] | None) -> None:
    """Note the rule files a node serving ``data_dir`` runs (None: the built-in pack)."""
    listed = None if paths is None else [str(Path(p).resolve()) for p in paths]
    _replace(_node_rules_path(data_dir), orjson.dumps({"rules": listed}))


def node_rule_paths(data_dir: Path) -> list[Path] | None:
    """The rule files the last ``heron serve`` of ``data_dir`` ran, or None when it ran
    the built-in pack (or none was noted, or the note is unreadable)."""
    try:
        raw = orjson.loads(_node_rules_path(data_dir).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    listed = raw.get("rules") if isinstance(raw, dict) else None
    if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
        return None
    return [Path(p) for p in listed] or None
