"""Sigma rules in Heron: load (pySigma) → compile → route, prefilter and match in-process.

Stages, one module each: ``load`` (files, cache, cross-file resolution) · ``compile``
(pySigma rule → ``ir``) · ``modifiers`` (typed values → tests) · ``logsource``
(routing and field adapters) · ``fieldmap`` (ECS fallback, entities) · ``view`` (an
event as rules read it) · ``predicates`` and ``decide`` (exact evaluation) ·
``literals`` and ``index`` (prefilter) · ``match`` (batches) · ``cache`` · ``engine``
(the pipeline's detector).
"""

from __future__ import annotations

from heron.detect.sigma.engine import SigmaEngine
from heron.detect.sigma.ir import CompiledRule, CorrelationSpec, LoadError
from heron.detect.sigma.load import LoadedRules, load_rules

__all__ = [
    "CompiledRule",
    "CorrelationSpec",
    "LoadError",
    "LoadedRules",
    "SigmaEngine",
    "load_rules",
]
