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
Changes other processes make to those files (``heron rules disable``, ``heron rules
placeholders set``, a file copied into ``rules/``) reach the running engine through
``follow_files``, which ``heron serve`` calls every few seconds.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heron.detect.correlate.engine import CorrelationEngine
from heron.detect.correlate.rules import CorrelationRule, CorrelationRuleError
from heron.detect.engine import DetectionEngine, correlation_rules
from heron.detect.rulestate import (
    disabled_rule_ids,
    placeholders_path,
    rule_placeholders,
    rules_state_path,
    save_disabled_rule_ids,
    set_rule_placeholder,
    upload_dir,
    uploaded_rule_files,
)
from heron.detect.sigma.cache import default_cache_dir
from heron.detect.sigma.engine import SigmaEngine
from heron.detect.sigma.ir import LoadError
from heron.detect.sigma.load import LoadedRules, compile_file, load_rules
from heron.errors import ConfigError, HeronError

__all__ = [
    "MAX_PLACEHOLDER_VALUES",
    "MAX_PLACEHOLDER_VALUE_CHARS",
    "FileChange",
    "RuleBook",
    "RuleBookError",
    "RuleUploadError",
    "follow_rule_files",
]

log = logging.getLogger(__name__)

#: (path, inode, modification time in ns, size) of each file the rule choices live in,
#: None for those of a file that does not exist. The inode tells apart two same-size
#: writes within one clock tick: Heron replaces these files, it does not rewrite them.
_Signature = tuple[tuple[str, int | None, int | None, int | None], ...]

#: Most values a placeholder takes through the API or the web UI, and their longest.
MAX_PLACEHOLDER_VALUES = 10_000
MAX_PLACEHOLDER_VALUE_CHARS = 1000

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


@dataclass(frozen=True, slots=True)
class FileChange:
    """What ``follow_files`` did with a change made outside the API."""

    applied: bool
    #: Why it was not applied: the first rule it would keep from loading, and why.
    reason: str = ""


class RuleBook:
    """The node's rule set and its enabled state."""

    def __init__(
        self,
        data_dir: Path,
        engine: DetectionEngine | None,
        base_paths: Sequence[Path] | None,
    ) -> None:
        from heron.rules import builtin_rule_paths

        self.data_dir = Path(data_dir)
        self.engine = engine
        self.base_paths = list(base_paths) if base_paths else builtin_rule_paths()
        self.upload_dir = upload_dir(self.data_dir)
        self.state_path = rules_state_path(self.data_dir)
        self._lock = threading.Lock()
        # The set the running engine was built from, when it says (``follow_files``
        # compares a change with it).
        running = getattr(engine.detectors, "loaded", None) if engine is not None else None
        self._loaded: LoadedRules | None = running if isinstance(running, LoadedRules) else None
        # The files as the running engine was built from them (``open_node`` read them
        # just before): a later difference is a change made outside the API.
        self._seen = self._files_signature()
        #: Why the last change made outside the API was not applied; None once one is.
        self.not_applied: str | None = None

    # -- state ------------------------------------------------------------------------

    def _state(self) -> _State:
        try:
            return _State(disabled_rule_ids(self.data_dir))
        except ConfigError as exc:
            raise RuleBookError(str(exc), 500) from None

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

    def _files_signature(self) -> _Signature:
        # The rule files themselves, not their folder: a file added or removed changes
        # the list, and an editor's temporary file beside them is no change.
        paths = [self.state_path, placeholders_path(self.data_dir)]
        paths.extend(uploaded_rule_files(self.data_dir))
        found: list[tuple[str, int | None, int | None, int | None]] = []
        for path in paths:
            try:
                st = path.stat()
            except OSError:
                found.append((str(path), None, None, None))
            else:
                found.append((str(path), st.st_ino, st.st_mtime_ns, st.st_size))
        return tuple(found)

    def _apply(self, loaded: LoadedRules, state: _State) -> None:
        # Called with the lock held, after the files were written: what the engine now
        # runs is what they say.
        self._seen = self._files_signature()
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

    def follow_files(self) -> FileChange | None:
        """Apply what changed in the rule files since the engine last read them; None
        when nothing did (or there is no running engine).

        The change is refused, and the engine keeps its rules, when an enabled rule
        would not load (a placeholder unset, a broken file copied in, a failing rule
        switched on by hand in ``rules.json``) or a correlation could not run: the node
        would not start with those files either. It is logged and reported once, not at
        every call.
        """
        if self.engine is None:
            return None
        with self._lock:
            signature = self._files_signature()
            if signature == self._seen:
                return None
            self._seen = signature
            before = self._loaded or self._load()
            try:
                state = self._state()
                loaded = self._load()
                # As at a start (``build_detection_engine``): only disabled rules may fail.
                lost = [e for e in loaded.errors if e.rule_id not in state.disabled]
                changed = loaded.correlations != before.correlations
                correlations = _runnable_correlations(loaded) if changed else []
            except (HeronError, OSError) as exc:
                problems = exc.problems if isinstance(exc, RuleUploadError) else []
                return self._refuse(str(problems[0]["reason"]) if problems else str(exc))
            if lost:
                first = lost[0]
                where = Path(first.path).name
                if first.rule_id and not first.rule_id.startswith(first.path):
                    where += f" (rule {first.rule_id})"
                return self._refuse(f"{where} would not load: {first.reason}")
            self.not_applied = None
            self._loaded = loaded
            self._apply(loaded, state)
            if changed:
                self.engine.replace_correlations(correlations)
            log.warning(
                "rule files changed: now %d rules, %d correlations, %d disabled",
                len(loaded.rules),
                len(loaded.correlations),
                len(state.disabled),
            )
            return FileChange(True)

    def _refuse(self, reason: str) -> FileChange:
        self.not_applied = reason
        log.error("rules: the changed rule files were not applied: %s", reason)
        return FileChange(False, reason)

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
        listed = {row["id"] for row in rows}
        for error in loaded.errors:
            # A rule that does not load is listed too: it can be switched off (the rest
            # then loads), and an analyst sees why it does not run.
            rule_id = error.rule_id
            if rule_id is None or rule_id in listed:
                continue
            listed.add(rule_id)
            filename = str(error.path)
            rows.append(
                {
                    "id": rule_id,
                    "title": "",
                    "kind": "rule",
                    "level": None,
                    "status": None,
                    "tags": [],
                    "enabled": rule_id not in disabled,
                    "uploaded": str(Path(filename).resolve()).startswith(uploads + os.sep),
                    "file": Path(filename).name,
                    "error": error.reason,
                }
            )
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
            "error": None,
        }

    def _ids(self, loaded: LoadedRules) -> set[str]:
        # A rule that fails to load can be switched off too: the rest then loads.
        failed = {e.rule_id for e in loaded.errors if e.rule_id}
        return {r.id for r in loaded.rules} | {c.id for c in loaded.correlations} | failed

    def known_ids(self) -> set[str]:
        """Ids that can be switched: rules and correlations, loaded or failing to load."""
        return self._ids(self.loaded())

    def set_enabled(self, rule_id: str, enabled: bool) -> dict[str, Any]:
        """Switch a rule on or off. A rule that does not load cannot be switched on (409):
        detection would no longer start."""
        loaded = self.loaded()
        if rule_id not in self._ids(loaded):
            raise RuleBookError(f"no rule with id {rule_id[:100]!r}", 404)
        failing = [e for e in loaded.errors if e.rule_id == rule_id]
        if enabled and failing:
            raise RuleBookError(
                f"rule {rule_id} does not load, so it stays off: {failing[0].reason}", 409
            )
        with self._lock:
            state = self._state()
            disabled = state.disabled - {rule_id} if enabled else state.disabled | {rule_id}
            new = _State(frozenset(disabled))
            save_disabled_rule_ids(self.data_dir, new.disabled)
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
            lost = _newly_failing(before, loaded, state.disabled)
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


async def follow_rule_files(book: RuleBook, every: float) -> None:
    """Apply rule changes made outside the API while the node runs, looking every
    ``every`` seconds (0: never): a few ``stat`` calls, a reload only after a change."""
    if book.engine is None or every <= 0:
        return
    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(book.follow_files)
        except Exception:  # the node keeps running on the rules it has; said in the log
            log.exception("rules: reading the changed rule files failed")


def _newly_failing(
    before: LoadedRules, after: LoadedRules, disabled: frozenset[str]
) -> list[LoadError]:
    """Errors of enabled rules in ``after`` that did not fail in ``before``."""
    failing = {e.rule_id for e in before.errors}
    return [e for e in after.errors if e.rule_id not in failing and e.rule_id not in disabled]


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
