"""Rule files and folders → compiled rules, correlations and errors, through the cache.

Each file is read once; its bytes give the cache key (``cache.entry_key``). On a miss
the file is parsed with pySigma (YAML through libyaml with pySigma's own loader) and
compiled; on a hit the compiled form is unpickled. Cross-file work happens after all
files are in: Sigma filters are applied to the rules they name, correlation rule
references are resolved, and rules used only by ``generate: false`` correlations are
marked as not raising alerts of their own.
"""

from __future__ import annotations

import dataclasses
import operator
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from heron.detect.sigma.cache import FileEntry, RuleCache, entry_key, rule_set_key
from heron.detect.sigma.indexcache import GroupIndexStore
from heron.detect.sigma.ir import (
    And,
    CompiledRule,
    CorrelationSpec,
    FilterSpec,
    LoadError,
)
from heron.detect.sigma.logsource import routing_warning
from heron.gctune import collector_paused

__all__ = ["LoadedRules", "compile_file", "find_rule_files", "load_rules"]

RULE_SUFFIXES = (".yml", ".yaml")


@dataclass(slots=True)
class LoadedRules:
    """What a set of rule paths loaded to."""

    rules: list[CompiledRule] = field(default_factory=list)
    correlations: list[CorrelationSpec] = field(default_factory=list)
    filters: list[FilterSpec] = field(default_factory=list)
    #: (path, rule id or None, reason): files and rules that could not be loaded.
    errors: list[LoadError] = field(default_factory=list)
    #: Rules that loaded but may never see an event (log source without a route).
    warnings: list[LoadError] = field(default_factory=list)
    files: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    seconds: float = 0.0
    #: Where the prefilter indexes of ``rules`` as loaded are kept, and those rules.
    _index_store: GroupIndexStore | None = None
    _as_loaded: tuple[CompiledRule, ...] = ()

    def index_store(self, rules: Sequence[CompiledRule]) -> GroupIndexStore | None:
        """The stored prefilter indexes of ``rules`` when they are exactly the rules this
        load gave (the same objects, in order), else None: an index stored for one list
        must never serve another."""
        store = self._index_store
        if store is None or len(rules) != len(self._as_loaded):
            return None
        if not all(map(operator.is_, rules, self._as_loaded)):
            return None
        return store


def _walk_rule_files(root: Path) -> list[tuple[Path, Path]]:
    """(path as listed, resolved path) of the rule files under a resolved folder.

    Like ``root.rglob("*")`` filtered to rule files outside ``tests/`` folders, but
    ``os.scandir`` knows each entry's type without a ``stat`` and only symbolic links
    need resolving: thousands of rule files cost little here. Symbolic links to
    folders are not followed (nor are they by ``rglob``).
    """
    found: list[tuple[Path, Path]] = []
    pending = [(str(root), False)]
    while pending:
        folder, in_tests = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, in_tests or entry.name == "tests"))
                    continue
                if in_tests or os.path.splitext(entry.name)[1].lower() not in RULE_SUFFIXES:
                    continue
                listed = Path(entry.path)
                if entry.is_symlink():
                    if listed.is_file():
                        found.append((listed, listed.resolve()))
                elif entry.is_file(follow_symlinks=False):
                    found.append((listed, listed))
            except OSError:
                continue
    return found


def find_rule_files(paths: Sequence[Path | str]) -> tuple[list[Path], list[LoadError]]:
    """Rule files under the given files and folders (sorted), and paths that do not exist."""
    files: list[Path] = []
    missing: list[LoadError] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            # A `tests/` folder beside rules holds `heron rules test` files, not rules.
            # Ordered as Path objects order (part by part), without their slow __lt__.
            found = sorted(_walk_rule_files(path.resolve()), key=lambda f: f[0].parts)
            files.extend(resolved for _, resolved in found)
        elif path.is_file():
            files.append(path.resolve())
        else:
            missing.append(LoadError(str(path), None, "no such file or directory"))
    seen: set[Path] = set()
    unique = []
    for f in files:
        if f not in seen:
            seen.add(f)
            unique.append(f)
    return unique, missing


def compile_file(
    data: bytes, path: str, placeholders: Mapping[str, Sequence[str]] | None = None
) -> FileEntry:
    """Parse and compile one rule file's bytes; every problem becomes a ``LoadError``."""
    # pySigma (and YAML) are imported on the first cache miss only: a start-up whose
    # rules are all cached never pays for them.
    from heron.detect.sigma.compile import compile_file as compile_with_pysigma

    return compile_with_pysigma(data, path, placeholders)


def _options(placeholders: Mapping[str, Sequence[str]] | None) -> str:
    if not placeholders:
        return ""
    return repr(sorted((k, tuple(v)) for k, v in placeholders.items()))


def _apply_filters(loaded: LoadedRules) -> None:
    if not loaded.filters:
        return
    out = []
    for rule in loaded.rules:
        condition = rule.condition
        for spec in loaded.filters:
            ls = spec.logsource
            if any(
                want is not None and want != have
                for want, have in (
                    (ls.product, rule.logsource.product),
                    (ls.category, rule.logsource.category),
                    (ls.service, rule.logsource.service),
                )
            ):
                continue
            if spec.rules is not None and not ({rule.id, rule.name} & set(spec.rules)):
                continue
            condition = And((condition, spec.condition))
        out.append(
            rule if condition is rule.condition else dataclasses.replace(rule, condition=condition)
        )
    loaded.rules = out


def _resolve_correlations(loaded: LoadedRules) -> None:
    by_ref: dict[str, CompiledRule | CorrelationSpec] = {}
    items: list[CompiledRule | CorrelationSpec] = [*loaded.rules, *loaded.correlations]
    for item in items:
        by_ref[item.id] = item
        if item.name:
            by_ref.setdefault(item.name, item)
    silent: set[str] = set()
    resolved = []
    for corr in loaded.correlations:
        ids = []
        missing = [ref for ref in corr.rules if ref not in by_ref]
        if missing:
            loaded.errors.append(
                LoadError(
                    corr.filename,
                    corr.id,
                    "correlation refers to rules not loaded: " + ", ".join(missing),
                )
            )
            continue
        for ref in corr.rules:
            target = by_ref[ref]
            ids.append(target.id)
            if not corr.generate:
                silent.add(target.id)
        resolved.append(dataclasses.replace(corr, rule_ids=tuple(ids)))
    loaded.correlations = resolved
    if silent:
        loaded.rules = [
            dataclasses.replace(r, output=False) if r.id in silent else r for r in loaded.rules
        ]


def _dedupe(loaded: LoadedRules) -> None:
    seen: dict[str, str] = {}
    rules = []
    for rule in loaded.rules:
        first = seen.get(rule.id)
        if first is not None:
            loaded.errors.append(
                LoadError(rule.filename, rule.id, f"duplicate rule id (first in {first})")
            )
            continue
        seen[rule.id] = rule.filename
        rules.append(rule)
    loaded.rules = rules


def load_rules(
    paths: Sequence[Path | str],
    cache_dir: Path | None = None,
    *,
    placeholders: Mapping[str, Sequence[str]] | None = None,
) -> LoadedRules:
    """Load every rule under ``paths``; ``cache_dir`` None compiles without caching."""
    started = time.perf_counter()
    files, missing = find_rule_files(paths)
    loaded = LoadedRules(errors=list(missing), files=len(files))
    cache = RuleCache(cache_dir) if cache_dir is not None else None
    options = _options(placeholders)
    # Cached entries first, with the cyclic collector paused: unpickling thousands of
    # them otherwise spends a third of its time in passes over the rules loaded before.
    # Files to compile come after, with it running (pySigma's objects form cycles).
    found: list[tuple[Path, bytes, str, FileEntry | None]] = []
    # The rule set lives as long as the process: frozen out of the collector's passes.
    with collector_paused(freeze=True):
        read: list[tuple[Path, bytes, str]] = []
        for path in files:
            try:
                data = path.read_bytes()
            except OSError as exc:
                loaded.errors.append(LoadError(str(path), None, f"cannot read: {exc}"))
                continue
            key = entry_key(data, str(path), options) if cache is not None else ""
            read.append((path, data, key))
        keys = [key for _, _, key in read]
        # The same rule set as a start before: its entries in one file (one read, one
        # unpickling), still found by the files' contents.
        bundle = cache.get_bundle(keys) if cache is not None and read else None
        for i, (path, data, key) in enumerate(read):
            entry = bundle[i] if bundle is not None else cache.get(key) if cache else None
            found.append((path, data if entry is None else b"", key, entry))
    entries: list[FileEntry] = []
    for path, data, key, entry in found:
        if entry is None:
            entry = compile_file(data, str(path), placeholders)
            loaded.cache_misses += 1
            if cache is not None:
                cache.put(key, entry)
        else:
            loaded.cache_hits += 1
        entries.append(entry)
        loaded.rules.extend(entry.rules)
        loaded.correlations.extend(entry.correlations)
        loaded.filters.extend(entry.filters)
        loaded.errors.extend(entry.errors)
    if cache is not None and read and bundle is None:
        cache.put_bundle(keys, entries)
    _dedupe(loaded)
    _apply_filters(loaded)
    _resolve_correlations(loaded)
    if cache_dir is not None and read:
        # The rules are now a function of the files' contents alone (dedupe, filters and
        # correlations look at nothing else): the set's key names their indexes.
        loaded._index_store = GroupIndexStore(cache_dir, rule_set_key(keys))
        loaded._as_loaded = tuple(loaded.rules)
    for rule in loaded.rules:
        warning = routing_warning(rule.logsource)
        if warning is not None:
            loaded.warnings.append(LoadError(rule.filename, rule.id, warning))
    loaded.seconds = time.perf_counter() - started
    return loaded
