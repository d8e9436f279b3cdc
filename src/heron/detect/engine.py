"""The detection stage: Sigma rules on each event, then correlations over their matches.

``DetectionEngine.detect`` is what the pipeline calls per batch. Single-event matches
of rules that only feed ``generate: false`` correlations are not returned (Sigma: such
rules raise no alert of their own) but still feed the correlations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from heron.detect.base import Detection, Detector
from heron.detect.correlate.engine import DEFAULT_LATENESS_NS, CorrelationEngine
from heron.detect.correlate.rules import CorrelationRule, CorrelationRuleError
from heron.detect.correlate.state import CorrelationStateFile
from heron.detect.rulestate import disabled_rule_ids, rule_placeholders
from heron.detect.sigma.cache import default_cache_dir
from heron.detect.sigma.engine import SigmaEngine
from heron.detect.sigma.fieldmap import entities_of
from heron.detect.sigma.ir import CompiledRule, CorrelationSpec, LoadError
from heron.detect.sigma.load import LoadedRules, load_rules
from heron.errors import ConfigError
from heron.model.event import Event

__all__ = [
    "LOAD_HOLD_LIMIT",
    "DetectionEngine",
    "RuleMatcher",
    "build_detection_engine",
    "correlation_rules",
    "single_detection",
]


class RuleMatcher(Protocol):
    """Single-event matching: every (event index, rule) pair that matches."""

    def match_batch(
        self, events: Sequence[Mapping[str, Any]]
    ) -> Sequence[tuple[int, CompiledRule]]: ...


def single_detection(
    rule: CompiledRule, event: Mapping[str, Any], entities: dict[str, str] | None = None
) -> Detection:
    """The detection of one rule on one event (``entities``: the event's, if known)."""
    ts = event.get("@timestamp")
    eid = event.get("event.id")
    return Detection(
        rule_id=rule.id,
        rule_name=rule.display_name,
        level=(rule.level or "medium").lower(),
        timestamp=ts if isinstance(ts, int) else 0,
        event_ids=(eid,) if isinstance(eid, str) else (),
        tags=rule.tags,
        entities=entities_of(event) if entities is None else entities,
    )


def correlation_rules(
    specs: Sequence[CorrelationSpec],
) -> tuple[list[CorrelationRule], list[LoadError]]:
    """Runnable correlation rules, and the ones that cannot run as load errors."""
    rules: list[CorrelationRule] = []
    errors: list[LoadError] = []
    for spec in specs:
        try:
            rules.append(CorrelationRule.from_spec(spec))
        except CorrelationRuleError as exc:
            errors.append(LoadError(spec.filename, spec.id, exc.reason))
    return rules, errors


class DetectionEngine:
    """Single-event rules, then correlations fed by their matches: a ``Detector``."""

    def __init__(
        self,
        detectors: RuleMatcher,
        correlation: CorrelationEngine | None = None,
        *,
        extra: Sequence[Detector] = (),
    ) -> None:
        self.detectors = detectors
        self.correlation = correlation
        # Other stateless detectors (threat-intel matches) that run beside the rules.
        self.extra = list(extra)
        # Rules that feed correlations only, and rules an analyst switched off: their
        # matches still feed correlations but raise no alert of their own.
        self._feeding_only = correlation.hidden_rule_ids if correlation is not None else frozenset()
        self._disabled: frozenset[str] = frozenset()
        self._hidden = self._feeding_only
        # Correlation rules to run from the next batch on, handed over by another thread.
        self._next_correlations: list[CorrelationRule] | None = None
        # Bumped whenever the rule set changes while running: worker processes that
        # match with their own copy rebuild it when they see a newer generation.
        self.generation = 0

    def set_disabled(self, rule_ids: frozenset[str]) -> None:
        """Switch these rules' alerts off (and every other rule's on)."""
        self._disabled = rule_ids
        self._hidden = self._feeding_only | rule_ids

    def replace_correlations(self, rules: Sequence[CorrelationRule]) -> None:
        """Run these correlation rules from the next batch on.

        The swap happens on the thread that runs the batches, between two of them: the
        running engine's state is saved, and the new engine continues the windows of
        every unchanged rule from it (a new or changed rule starts empty).
        """
        self._next_correlations = list(rules)

    def _take_new_correlations(self) -> None:
        rules, self._next_correlations = self._next_correlations, None
        if rules is None:
            return
        old = self.correlation
        new: CorrelationEngine | None = None
        if rules:
            state_file = old.state_file if old is not None else None
            if old is not None:
                old.save()
            lateness = old.lateness_ns if old is not None else DEFAULT_LATENESS_NS
            new = CorrelationEngine(rules, lateness_ns=lateness, state_file=state_file)
            if old is not None:
                new.hold, new.hold_limit = old.hold, old.hold_limit
        self.correlation = new
        self._feeding_only = new.hidden_rule_ids if new is not None else frozenset()
        self._hidden = self._feeding_only | self._disabled

    def detect(self, events: Sequence[Event]) -> list[Detection]:
        """Detections for this batch: single-event ones first, then correlations."""
        return self.correlate(events, self.match(events))

    def match(self, events: Sequence[Event]) -> list[Detection]:
        """Single-event detections of every rule, those that only feed correlations too.

        Stateless: worker processes run this; ``correlate`` then runs where the state is.
        """
        found: list[Detection] = []
        entities: dict[int, dict[str, str]] = {}  # per event: several rules may match it
        for i, rule in self.detectors.match_batch(events):
            event = events[i]
            if i not in entities:
                entities[i] = entities_of(event)
            found.append(single_detection(rule, event, entities[i]))
        for detector in self.extra:
            found.extend(detector.detect(events))
        return found

    def correlate(
        self,
        events: Sequence[Event],
        detections: Sequence[Detection],
        *,
        newest: int | None = None,
        correlation: CorrelationEngine | None = None,
    ) -> list[Detection]:
        """The alerting part of ``match``'s detections, then the correlations they complete.

        ``events`` needs to hold only the events ``detections`` name; ``newest`` is the
        newest ``@timestamp`` of the whole batch (event time moves on with every event).
        ``correlation``: a load's own engine (``load_correlation``) instead of this one's.
        """
        self._take_new_correlations()
        out = [d for d in detections if d.rule_id not in self._hidden]
        engine = correlation if correlation is not None else self.correlation
        if engine is not None:
            feeding = engine.input_rule_ids
            inputs = [d for d in detections if d.rule_id in feeding]
            found = engine.detect(events, inputs, newest=newest)
            out.extend(d for d in found if d.rule_id not in self._hidden)
        return out

    def flush(
        self, *, final: bool = False, correlation: CorrelationEngine | None = None
    ) -> list[Detection]:
        """Correlations still pending at the end of the input (see ``CorrelationEngine.flush``).

        With a load's own ``correlation`` this may run on any thread: the live engine,
        which only the thread that runs the batches may swap, is left alone."""
        if correlation is None:
            self._take_new_correlations()
        engine = correlation if correlation is not None else self.correlation
        if engine is None:
            return []
        found = engine.flush(final=final)
        # Correlations that only feed other correlations raise no alert of their own.
        return [d for d in found if d.rule_id not in self._hidden]

    def load_correlation(self, spill_parent: Path | None = None) -> CorrelationEngine | None:
        """A correlation engine of the running rules for one load of files (None without
        correlation rules): it holds every match until ``flush``, as ``heron ingest``
        does, so files that each span a period correlate in event time, and the live
        engine's windows, lateness bound and state are left alone."""
        current = self.correlation
        if current is None:
            return None
        engine = CorrelationEngine(
            current.rules, lateness_ns=current.lateness_ns, spill_parent=spill_parent
        )
        engine.hold = True
        # A node takes many loads at once (64 uploads): each spills sooner than a load
        # of its own would, so their held matches stay within ~15 MB each.
        engine.hold_limit = LOAD_HOLD_LIMIT
        return engine

    def correlating_in(self, correlation: CorrelationEngine) -> Detector:
        """This engine as a ``Detector`` whose correlations run in ``correlation``."""
        return _LoadDetector(self, correlation)


class _LoadDetector:
    """Single-event rules of a detection engine, correlations in a load's own engine."""

    def __init__(self, engine: DetectionEngine, correlation: CorrelationEngine) -> None:
        self.engine = engine
        self.correlation = correlation

    def detect(self, events: Sequence[Event]) -> list[Detection]:
        found = self.engine.match(events)
        return self.engine.correlate(events, found, correlation=self.correlation)


#: Matches a load through a running node holds in memory before it writes them to disk.
LOAD_HOLD_LIMIT = 20_000


def _builtin_paths() -> list[Path]:
    from heron.rules import builtin_rule_paths

    return builtin_rule_paths()


def build_detection_engine(
    rule_paths: Sequence[Path] | None,
    data_dir: Path | None,
    *,
    lateness_ns: int = DEFAULT_LATENESS_NS,
    persist: bool = True,
) -> DetectionEngine:
    """The engine for these rule files (None: the built-in pack), state under ``data_dir``.

    Raises ``ConfigError`` when a rule cannot be loaded: detection must not start with
    part of its rules silently missing. A rule switched off in ``data_dir`` (``heron
    rules disable``, the API) is not missed: its errors do not count.
    """
    paths = list(rule_paths) if rule_paths is not None else _builtin_paths()
    cache = default_cache_dir(data_dir) if data_dir is not None else None
    loaded = load_rules(paths, cache, placeholders=rule_placeholders(data_dir))
    engine, errors = engine_from_loaded(
        loaded,
        state_file=CorrelationStateFile.in_data_dir(data_dir) if persist and data_dir else None,
        lateness_ns=lateness_ns,
    )
    disabled = disabled_rule_ids(data_dir) if data_dir is not None else frozenset()
    errors = [e for e in errors if e.rule_id not in disabled]
    if errors:
        shown = "; ".join(f"{e.path} [{e.rule_id or '-'}]: {e.reason}" for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise ConfigError(f"{len(errors)} rule(s) failed to load: {shown}{more}")
    return engine


def engine_from_loaded(
    loaded: LoadedRules,
    *,
    state_file: CorrelationStateFile | None = None,
    lateness_ns: int = DEFAULT_LATENESS_NS,
) -> tuple[DetectionEngine, list[LoadError]]:
    """An engine from already-loaded rules, with every load error (rules and correlations)."""
    rules, corr_errors = correlation_rules(loaded.correlations)
    sigma = SigmaEngine(loaded)
    errors = [*sigma.errors, *corr_errors]
    try:
        correlation = (
            CorrelationEngine(rules, lateness_ns=lateness_ns, state_file=state_file)
            if rules
            else None
        )
    except CorrelationRuleError as exc:
        errors.append(LoadError("", exc.rule_id, exc.reason))
        correlation = None
    return DetectionEngine(sigma, correlation), errors
