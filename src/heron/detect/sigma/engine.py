"""The Sigma detector the pipeline runs: loaded rules + matcher → ``Detection`` objects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from heron.detect.base import Detection
from heron.detect.sigma.fieldmap import entities_of
from heron.detect.sigma.ir import CompiledRule, CorrelationSpec, LoadError
from heron.detect.sigma.load import LoadedRules, load_rules
from heron.detect.sigma.match import Match, RuleErrors, SigmaMatcher
from heron.model.event import Event

__all__ = ["DEFAULT_LEVEL", "SigmaEngine"]

#: Level of a rule that names none (the Sigma specification makes ``level`` optional).
DEFAULT_LEVEL = "medium"


class SigmaEngine:
    """Single-event Sigma rules over batches of events (``heron.detect.base.Detector``).

    ``match_batch`` gives every (event index, rule) pair, including rules that only
    feed ``generate: false`` correlations; ``detect`` turns the pairs of rules that
    raise alerts of their own into ``Detection`` objects.
    """

    def __init__(self, loaded: LoadedRules) -> None:
        self.loaded = loaded
        # load_rules built every predicate when it compiled the files: build on use.
        self.matcher = SigmaMatcher(
            loaded.rules, checked=True, indexes=loaded.index_store(loaded.rules)
        )
        built = {r.filename + "\0" + r.id for r in self.matcher.rules}
        self._errors = list(loaded.errors)
        for rule, reason in self.matcher.build_errors:
            self._errors.append(LoadError(rule.filename, rule.id, reason))
        self._rules = [r for r in loaded.rules if r.filename + "\0" + r.id in built]

    @classmethod
    def from_paths(
        cls,
        paths: Sequence[Path | str],
        cache_dir: Path | None = None,
        *,
        placeholders: Mapping[str, Sequence[str]] | None = None,
    ) -> SigmaEngine:
        """Load rule files and folders (through the cache when ``cache_dir`` is given)."""
        return cls(load_rules(paths, cache_dir, placeholders=placeholders))

    @property
    def rules(self) -> list[CompiledRule]:
        """The single-event rules this engine matches."""
        return self._rules

    @property
    def correlations(self) -> list[CorrelationSpec]:
        """Correlation rules, for the correlation engine (this engine does not run them)."""
        return self.loaded.correlations

    @property
    def errors(self) -> list[LoadError]:
        """Rules and files that could not be loaded or compiled: (path, rule id, reason)."""
        return self._errors

    @property
    def rule_errors(self) -> dict[str, RuleErrors]:
        """Rule id → how often its predicate failed on an odd event, and the last reason."""
        return self.matcher.rule_errors

    @property
    def event_errors(self) -> int:
        """Events that could not be routed at all (e.g. not a mapping)."""
        return self.matcher.event_errors

    def match_batch(self, events: Sequence[Mapping[str, Any]]) -> list[Match]:
        """Every (event index, rule) pair where the rule matches, in event order."""
        return self.matcher.match_batch(events)

    def detect(self, events: Sequence[Event]) -> list[Detection]:
        """One ``Detection`` per (alerting rule, matching event)."""
        out: list[Detection] = []
        for index, rule in self.matcher.match_batch(events):
            if not rule.output:
                continue
            event = events[index]
            event_id = event.get("event.id")
            stamp = event.get("@timestamp")
            out.append(
                Detection(
                    rule_id=rule.id,
                    rule_name=rule.display_name,
                    level=rule.level or DEFAULT_LEVEL,
                    timestamp=stamp if isinstance(stamp, int) else 0,
                    event_ids=(str(event_id),) if event_id is not None else (),
                    tags=rule.tags,
                    entities=entities_of(event),
                )
            )
        return out
