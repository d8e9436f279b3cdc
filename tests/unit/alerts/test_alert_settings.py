"""Alert settings from a configuration section."""

from __future__ import annotations

from typing import Any

import pytest

from heron.alerts import AlertSettings
from heron.errors import ConfigError

S = 1_000_000_000


def test_defaults_and_a_full_section() -> None:
    assert AlertSettings.from_mapping({}) == AlertSettings()
    got = AlertSettings.from_mapping(
        {
            "dedup_window": "30m",
            "risk_half_life": "7d",
            "risk_threshold": 200,
            "risk_alert_level": "Critical",
        }
    )
    assert got == AlertSettings(1800 * S, 7 * 86400 * S, 200.0, "critical")


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"window": "1h"}, "unknown setting 'window'"),
        ({"dedup_window": "soon"}, "alerts.dedup_window: not a duration"),
        ({"risk_half_life": "0s"}, "longer than zero"),
        ({"risk_threshold": -1}, "positive number"),
        ({"risk_threshold": True}, "positive number"),
        ({"risk_alert_level": "severe"}, "risk_alert_level"),
    ],
)
def test_bad_settings_name_the_setting(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        AlertSettings.from_mapping(section)
