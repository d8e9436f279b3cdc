"""Working days and hours: when people are at their desks, and when they are not."""

from __future__ import annotations

import random
from dataclasses import dataclass

from heron.simulate.company import Person
from heron.simulate.emit import SEC

__all__ = [
    "DAY",
    "HOUR",
    "Shift",
    "business_weight",
    "hour_sample",
    "is_weekend",
    "pick_time",
    "shift_of",
]

HOUR = 3600 * SEC
DAY = 24 * HOUR
# Share of a day's traffic in each UTC hour on a working day (sums to ~1).
_HOURLY = (
    0.006, 0.004, 0.003, 0.003, 0.004, 0.008, 0.02, 0.045, 0.075, 0.085, 0.085, 0.08,
    0.07, 0.08, 0.085, 0.08, 0.07, 0.05, 0.035, 0.027, 0.022, 0.016, 0.012, 0.008,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Shift:
    """One person's working span on one day (absolute ns)."""

    start: int
    end: int


def is_weekend(day_index: int, start_weekday: int) -> bool:
    return (start_weekday + day_index) % 7 >= 5


def business_weight(hour: int, weekend: bool) -> float:
    """Relative activity in this hour (weekends are quiet)."""
    return _HOURLY[hour] * (0.2 if weekend else 1.0)


def shift_of(person: Person, day_ns: int, weekend: bool, rng: random.Random) -> list[Shift]:
    """When ``person`` works on this day: none, a normal day, and maybe a late session."""
    shifts: list[Shift] = []
    if rng.random() < (0.06 if weekend else 0.93):
        start = day_ns + int((person.starts_hour + rng.gauss(0, 0.3)) * HOUR)
        length = rng.gauss(8.6, 0.6) if not weekend else rng.uniform(0.5, 2.5)
        shifts.append(Shift(start, start + int(length * HOUR)))
    if person.works_late and rng.random() < 0.3:
        start = day_ns + int(rng.uniform(20.0, 22.5) * HOUR)
        shifts.append(Shift(start, start + int(rng.uniform(0.3, 1.5) * HOUR)))
    return shifts


def pick_time(rng: random.Random, shift: Shift) -> int:
    return rng.randint(shift.start, max(shift.start, shift.end))


def hour_sample(rng: random.Random, day_ns: int, weekend: bool) -> int:
    """A time on this day drawn from the business-hours curve."""
    hour = rng.choices(range(24), weights=[business_weight(h, weekend) for h in range(24)])[0]
    return day_ns + hour * HOUR + rng.randrange(HOUR)
