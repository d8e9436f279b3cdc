"""The rules a running node detects with: list, enable, disable, upload — applied live.

Uploaded Sigma files live in ``<data-dir>/rules/``; which rules are disabled is kept
in ``<data-dir>/state/rules.json``. A change compiles a new single-event matcher off
the event loop and swaps it into the running ``DetectionEngine`` with one attribute
assignment: the collector's pipeline thread reads ``engine.detectors`` once per batch,
so a batch is matched entirely by the old or entirely by the new rule set, never a
mix, and nothing is paused. A disabled rule still feeds the correlations that use it
(as a ``generate: false`` rule does) but raises no alert of its own. The correlation
engine is replaced between two batches when a *correlation* rule is uploaded: the new
one continues every unchanged correlation's windows from the saved state, and a
correlation the engine could not run is refused (422) rather than stored. Worker processes
match with their own copy of the rules: the engine's ``generation`` tells them to
rebuild it from the same files. ``open_node`` reads both at start (``rulestate``), so
``heron ingest`` and a restarted ``heron serve`` detect with what the analyst chose.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from heron.detect.correlate.engine import CorrelationEngine
from heron.detect.correlate.rules import CorrelationRule, CorrelationRuleError
from heron.detect.engine import DetectionEngine, correlation_rules
from heron.detect.rulestate import (
    disabled_rule_ids,
    placeholders_path,
    rule_placeholders,
    rules_state_path,
    set_rule_placeholder,
    upload_dir,
    uploaded_rule_files,
)
from heron.detect.sigma.cache import default_cache_dir
from heron.detect.sigma.engine import SigmaEngine
from heron.detect.sigma.ir import LoadError
from heron.detect.sigma.load import LoadedRules, compile_file, load_rules
from heron.errors import ConfigError, HeronError

__all__ = ["RuleBook", "RuleBookError", "RuleUploadError"]

#: An uploaded rule file's name: no folders, no dots up front, a YAML suffix.
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,99}(\.[A-Za-z0-9_\-]{1,20})*\.ya?ml")


class RuleBookError(HeronError):
    """A rule change that cannot be made; ``status`` is the HTTP answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class RuleUploadError(RuleBookError):
    """A rule file, or a placeholder change, the Sigma loader refuses; ``problems`` are
    its messages."""

    def __init__(self, message: str, problems: list[dict[str, Any]], status: int = 422) -> None:
        super().__init__(message, status)
        self.problems = problems


@dataclass(frozen=True, slots=True)
class _State:
    disabled: frozenset[str]


class RuleBook:
    """The node's rule set and its enabled state."""

    def __init__(
        self,
        data_dir: Path,
        engine: DetectionEngine | None,
        base_paths: tuple[Path, ...] | None,
    ) -> None:
        from heron.rules import builtin_rule_paths

        self.data_dir = Path(data_dir)
        self.engine = engine
        self.base_paths = list(base_paths) if base_paths else builtin_rule_paths()
        self.upload_dir = upload_dir(self.data_dir)
        self.state_path = rules_state_path(self.data_dir)
        self._lock = threading.Lock()
        self._loaded: LoadedRules | None = None

    # -- state ------------------------------------------------------------------------

    def _state(self) -> _State:
        try:
            return _State(disabled_rule_ids(self.data_dir))
        except ConfigError as exc:
            raise RuleBookError(str(exc), 500) from None

    def _save_state(self, state: _State) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps({"disabled": sorted(state.disabled)}))
        os.replace(tmp, self.state_path)

    # -- loading and applying -----------------------------------------------------------

    def _load(self) -> LoadedRules:
        paths: list[Path] = [*self.base_paths, *uploaded_rule_files(self.data_dir)]
        return load_rules(
            paths, default_cache_dir(self.data_dir), placeholders=rule_placeholders(self.data_dir)
        )

    def loaded(self) -> LoadedRules:
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
            return self._loaded

    def _apply(self, loaded: LoadedRules, state: _State) -> None:
        engine = self.engine
        if engine is None:
            return
        matcher = SigmaEngine(loaded)
        # Hidden first, then the matcher: a batch in between raises no alert of a
        # newly disabled rule; one matched by the old set with the new hidden set loses
        # nothing a person asked for.
        engine.set_disabled(state.disabled)
        engine.detectors = matcher
        engine.generation += 1

    # -- what the API calls -----------------------------------------------------------

    def rows(self) -> list[dict[str, Any]]:
        loaded = self.loaded()
        disabled = self._state().disabled
        uploads = str(self.upload_dir.resolve())
        rows: list[dict[str, Any]] = []
        for rule in loaded.rules:
            rows.append(self._row(rule, "rule", disabled, uploads))
        for corr in loaded.correlations:
            rows.append(self._row(corr, f"correlation:{corr.type}", disabled, uploads))
        return rows

    @staticmethod
    def _row(rule: Any, kind: str, disabled: frozenset[str], uploads: str) -> dict[str, Any]:
        filename = str(rule.filename)
        return {
            "id": rule.id,
            "title": rule.title,
            "kind": kind,
            "level": rule.level,
            "status": getattr(rule, "status", None),
            "tags": list(rule.tags),
            "enabled": rule.id not in disabled,
            "uploaded": str(Path(filename).resolve()).startswith(uploads + os.sep),
            "file": Path(filename).name,
        }

    def _ids(self, loaded: LoadedRules) -> set[str]:
        # A rule that fails to load can be switched off too: the rest then loads.
        failed = {e.rule_id for e in loaded.errors if e.rule_id}
        return {r.id for r in loaded.rules} | {c.id for c in loaded.correlations} | failed

    def known_ids(self) -> set[str]:
        """Ids that can be switched: rules and correlations, loaded or failing to load."""
        return self._ids(self.loaded())

    def set_enabled(self, rule_id: str, enabled: bool) -> dict[str, Any]:
        loaded = self.loaded()
        if rule_id not in self._ids(loaded):
            raise RuleBookError(f"no rule with id {rule_id[:100]!r}", 404)
        with self._lock:
            state = self._state()
            disabled = state.disabled - {rule_id} if enabled else state.disabled | {rule_id}
            new = _State(frozenset(disabled))
            self._save_state(new)
            self._apply(self._loaded or loaded, new)
        return {"id": rule_id, "enabled": enabled, "live": self.engine is not None}

    def placeholders(self) -> dict[str, list[str]]:
        try:
            return rule_placeholders(self.data_dir)
        except ConfigError as exc:
            raise RuleBookError(str(exc), 500) from None

    def set_placeholder(self, name: str, values: list[str] | None) -> dict[str, Any]:
        """Give a placeholder its values (None: none) and detect with them at once.

        Refused (409, nothing changed) when an enabled rule that loads now would not
        load with them: the node's next start would fail.
        """
        path = placeholders_path(self.data_dir)
        with self._lock:
            if values is None and name not in self.placeholders():
                raise RuleBookError(f"no placeholder {name[:100]!r} is set", 404)
            previous = path.read_bytes() if path.exists() else None
            before = self._loaded or self._load()
            try:
                set_rule_placeholder(self.data_dir, name, values)
            except ConfigError as exc:
                raise RuleBookError(str(exc)) from None
            loaded = self._load()
            state = self._state()
            failing = {e.rule_id for e in before.errors}
            lost = [
                e
                for e in loaded.errors
                if e.rule_id not in failing and e.rule_id not in state.disabled
            ]
            if lost:
                _restore(path, previous)
                problems = [{"rule_id": e.rule_id, "reason": e.reason} for e in lost]
                raise RuleUploadError(f"{lost[0].path}: {lost[0].reason}", problems, 409)
            self._loaded = loaded
            self._apply(loaded, state)
        return {"name": name, "values": values or [], "live": self.engine is not None}

    def upload(self, filename: str, data: bytes) -> dict[str, Any]:
        """Validate a Sigma file, store it under ``rules/``, and start detecting with it."""
        if not _FILE_NAME.fullmatch(filename) or ".." in filename:
            raise RuleBookError(
                "a rule file name is letters, digits, '_', '-' and '.' ending in .yml or "
                f".yaml, without folders: {filename[:100]!r}"
            )
        target = self.upload_dir / filename
        entry = compile_file(data, filename, rule_placeholders(self.data_dir))
        if entry.errors:
            problems = [{"rule_id": e.rule_id, "reason": e.reason} for e in entry.errors]
            raise RuleUploadError(f"{filename}: {entry.errors[0].reason}", problems)
        new_ids = [r.id for r in entry.rules] + [c.id for c in entry.correlations]
        if not new_ids:
            raise RuleBookError(f"{filename}: holds no Sigma rule", 422)
        with self._lock:
            current = self._loaded or self._load()
            present: list[Any] = [*current.rules, *current.correlations]
            others = {r.id for r in present if Path(r.filename).resolve() != target.resolve()}
            clash = sorted(set(new_ids) & others)
            if clash:
                raise RuleBookError(f"{filename}: rule id {clash[0]} exists already", 409)
            self.upload_dir.mkdir(parents=True, exist_ok=True)
            previous = target.read_bytes() if target.exists() else None
            tmp = self.upload_dir / f".{filename}.tmp"
            tmp.write_bytes(data)
            os.replace(tmp, target)
            loaded = self._load()
            correlations: list[CorrelationRule] = []
            try:
                # In the whole set, this file's rules must load and its correlations
                # run (their rule references resolve): otherwise the next start fails.
                _check_in_set(loaded, filename, set(new_ids))
                if entry.correlations:
                    correlations = _runnable_correlations(loaded)
            except RuleUploadError:
                _restore(target, previous)
                raise
            self._loaded = loaded
            self._apply(loaded, self._state())
            if entry.correlations and self.engine is not None:
                self.engine.replace_correlations(correlations)
        return {"file": filename, "rules": new_ids, "live": self.engine is not None}


def _check_in_set(loaded: LoadedRules, filename: str, ids: set[str]) -> None:
    errors = [e for e in loaded.errors if e.rule_id in ids or Path(e.path).name == filename]
    if errors:
        problems = [{"rule_id": e.rule_id, "reason": e.reason} for e in errors]
        raise RuleUploadError(f"{filename}: {errors[0].reason}", problems)


def _runnable_correlations(loaded: LoadedRules) -> list[CorrelationRule]:
    """Every correlation rule of the set, checked the way the engine will run them."""
    rules, errors = correlation_rules(loaded.correlations)
    if not errors:
        try:
            CorrelationEngine(rules)  # dependency order, references
        except CorrelationRuleError as exc:
            errors = [LoadError("", exc.rule_id, exc.reason)]
    if errors:
        problems = [{"rule_id": e.rule_id, "reason": e.reason} for e in errors]
        raise RuleUploadError(f"correlation {errors[0].rule_id}: {errors[0].reason}", problems)
    return rules


def _restore(target: Path, previous: bytes | None) -> None:
    if previous is None:
        target.unlink(missing_ok=True)
    else:
        target.write_bytes(previous)
