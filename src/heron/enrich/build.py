"""The enrichers and the intel detector of a node, built from its data directory.

Everything is read from the snapshot files beside the database (never the database
itself), so worker processes build the same stages while the parent holds the
database open. Order: identities first (canonical ``user.*``), then assets, GeoIP and
threat intelligence last.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from heron.enrich.asset import AssetEnricher
from heron.enrich.base import Enricher
from heron.enrich.geoip import GeoIpEnricher
from heron.enrich.identity import IdentityEnricher
from heron.enrich.intel import IntelEnricher
from heron.intel.detect import IntelDetector

__all__ = ["GEOIP_ENV", "build_enrichers", "build_intel_detector", "geoip_databases"]

#: Paths of MaxMind-format databases, separated like PATH.
GEOIP_ENV = "HERON_GEOIP_DB"


def geoip_databases(
    data_dir: str | Path, explicit: Sequence[str | Path] | None = None
) -> list[Path]:
    """The GeoIP databases to open: ``explicit``, else ``$HERON_GEOIP_DB``, else
    ``<data_dir>/geoip/*.mmdb``."""
    if explicit:
        return [Path(p) for p in explicit]
    env = os.environ.get(GEOIP_ENV, "").strip()
    if env:
        return [Path(p) for p in env.split(os.pathsep) if p]
    folder = Path(data_dir) / "geoip"
    return sorted(folder.glob("*.mmdb")) if folder.is_dir() else []


def build_enrichers(
    data_dir: str | Path,
    *,
    geoip: Sequence[str | Path] | None = None,
    refresh_seconds: float = 30.0,
) -> list[Enricher]:
    """Identity, asset, GeoIP and threat-intel enrichers over ``data_dir``'s snapshots."""
    root = Path(data_dir)
    return [
        IdentityEnricher(data_dir=root, refresh_seconds=refresh_seconds),
        AssetEnricher(data_dir=root, refresh_seconds=refresh_seconds),
        GeoIpEnricher(geoip_databases(root, geoip)),
        IntelEnricher.from_data_dir(root, refresh_seconds=refresh_seconds),
    ]


def build_intel_detector(*, min_confidence: int = 0) -> IntelDetector:
    """The detector that turns the intel enricher's matches into detections."""
    return IntelDetector(min_confidence=min_confidence)
