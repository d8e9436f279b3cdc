"""What ``POST /api/intel/load`` makes of the stream ``heron intel load`` sends."""

from __future__ import annotations

import pyarrow as pa
import pytest
from fastapi import HTTPException

from heron.api.routes_intel import REVOKED_COLUMN, _split
from heron.intel.indicator import Indicator
from heron.intel.store import LOAD_SCHEMA, indicators_to_arrow


def test_revoked_rows_are_withdrawn_and_the_rest_stored() -> None:
    table = indicators_to_arrow(
        [
            Indicator("ipv4-addr", "203.0.113.9", "feed", confidence=80),
            Indicator("domain-name", "old.example.com", "feed"),
            Indicator("ipv4-addr", "203.0.113.10", "feed", tags=("c2",)),
        ]
    ).append_column(REVOKED_COLUMN, pa.array([False, True, False], pa.bool_()))
    kept, revoked = _split(table)
    assert kept.schema == LOAD_SCHEMA
    assert kept.column("value").to_pylist() == ["203.0.113.9", "203.0.113.10"]
    assert kept.column("confidence").to_pylist() == [80, None]
    assert [(i.type, i.value, i.source) for i in revoked] == [
        ("domain-name", "old.example.com", "feed")
    ]


def test_a_stream_of_other_columns_is_refused() -> None:
    table = pa.table({"type": ["ipv4-addr"], "value": ["203.0.113.9"]})
    with pytest.raises(HTTPException) as refused:
        _split(table)
    assert refused.value.status_code == 400
