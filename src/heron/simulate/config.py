"""What to simulate: the size of the company, the period and the seed, checked up front."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from heron.errors import HeronError

__all__ = ["MAX_DAYS", "MAX_SCALE", "SimulationConfig", "SimulationError"]

MAX_DAYS = 366
MAX_USERS = 5000
MAX_HOSTS = 5000
MAX_SCALE = 100.0
#: Each simulated company needs at least this many people to have admins and victims.
MIN_USERS = 4


class SimulationError(HeronError):
    """A simulation parameter is out of range, or the sender cannot do what was asked."""

    def __init__(self, reason: str, *, parameter: str = "") -> None:
        self.reason = reason
        self.parameter = parameter
        super().__init__(f"{parameter}: {reason}" if parameter else reason)


@dataclass(frozen=True, slots=True)
class SimulationConfig:
    """One simulated company over ``days`` days from ``start`` (midnight UTC).

    ``scale`` multiplies the benign event volume (1.0 is about 8,000 events a day for 25
    users); attack chains are the same at every scale.
    """

    days: int = 7
    seed: int = 1
    users: int = 25
    hosts: int = 25
    start: datetime = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
    scale: float = 1.0
    chains: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.days, bool) or not isinstance(self.days, int):
            raise SimulationError("must be a whole number of days", parameter="days")
        if self.days < 1:
            raise SimulationError(f"must be at least 1, not {self.days}", parameter="days")
        if self.days > MAX_DAYS:
            raise SimulationError(f"at most {MAX_DAYS} days, not {self.days}", parameter="days")
        if not MIN_USERS <= self.users <= MAX_USERS:
            raise SimulationError(
                f"must be between {MIN_USERS} and {MAX_USERS}, not {self.users}",
                parameter="users",
            )
        if not 1 <= self.hosts <= MAX_HOSTS:
            raise SimulationError(
                f"must be between 1 and {MAX_HOSTS} workstations, not {self.hosts}",
                parameter="hosts",
            )
        if not 0 < self.scale <= MAX_SCALE:
            raise SimulationError(
                f"must be above 0 and at most {MAX_SCALE}, not {self.scale}", parameter="scale"
            )
        if self.start.tzinfo is None:
            raise SimulationError("needs a time zone (use UTC)", parameter="start")
        if self.seed < 0:
            raise SimulationError(f"must be 0 or more, not {self.seed}", parameter="seed")

    @property
    def start_ns(self) -> int:
        """Midnight UTC of the first day, in ns since the epoch."""
        day = self.start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return int(day.timestamp()) * 1_000_000_000
