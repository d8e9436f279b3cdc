"""EVTX records (as the ``evtx`` library renders them) through parse and normalize."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from heron.model.event import validate_event
from heron.normalize import normalize
from heron.parsers.base import ParseContext
from heron.parsers.windows import WindowsEventParser

RECEIVED = 1_700_000_000_000_000_000


GOLDEN = Path(__file__).resolve().parents[2] / "golden"
# HERON_UPDATE_GOLDEN=1 rewrites the expected parts from the current code; review the
# diff by eye before committing it.
UPDATE = os.environ.get("HERON_UPDATE_GOLDEN") == "1"


def golden_cases(folder: str) -> list[Path]:
    return sorted((GOLDEN / folder).glob("*.json"))


def check_golden(path: Path, case: dict[str, Any], key: str, actual: Any) -> None:
    """Compare ``actual`` with ``case[key]``, or store it when updating."""
    if UPDATE:
        case[key] = actual
        path.write_text(json.dumps(case, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    assert actual == case[key], f"{path.name}: {key} differs"


@pytest.mark.parametrize("path", golden_cases("windows"), ids=lambda p: p.stem)
def test_windows_record_golden(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    raw = orjson.dumps(case["record"]).decode()
    parsed = WindowsEventParser().parse(raw, ParseContext(received=RECEIVED))
    vendor = dict(parsed)
    check_golden(path, case, "parsed", vendor)
    event = normalize(parsed)
    # Vendor fields stay exactly as parsed; normalization only adds.
    assert {k: event[k] for k in vendor} == vendor
    check_golden(path, case, "normalized", {k: v for k, v in event.items() if k not in vendor})
    validate_event(event)
