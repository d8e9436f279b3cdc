"""Parameters are checked before anything is generated, with errors that say which one."""

from __future__ import annotations

from datetime import datetime

import pytest

from heron.errors import HeronError
from heron.simulate import SimulationConfig, SimulationError
from heron.simulate.sender import MAX_RATE, check_rate


@pytest.mark.parametrize(
    ("kwargs", "parameter", "words"),
    [
        ({"days": -1}, "days", "at least 1"),
        ({"days": 0}, "days", "at least 1"),
        ({"days": 10_000}, "days", "at most"),
        ({"hosts": 0}, "hosts", "between 1"),
        ({"users": 0}, "users", "between"),
        ({"scale": 0.0}, "scale", "above 0"),
        ({"scale": -2.0}, "scale", "above 0"),
        ({"seed": -5}, "seed", "0 or more"),
        ({"start": datetime(2026, 3, 2)}, "start", "time zone"),
    ],
)
def test_nonsense_parameters_are_refused(kwargs: dict, parameter: str, words: str) -> None:
    with pytest.raises(SimulationError) as info:
        SimulationConfig(**kwargs)
    assert info.value.parameter == parameter
    assert words in str(info.value)
    assert isinstance(info.value, HeronError)


@pytest.mark.parametrize("rate", [0, -10, MAX_RATE * 10, float("nan")])
def test_rates_a_sender_cannot_hold_are_refused(rate: float) -> None:
    with pytest.raises(SimulationError) as info:
        check_rate(rate)
    assert info.value.parameter == "rate"


def test_a_sensible_rate_is_kept() -> None:
    assert check_rate(500.0) == 500.0
