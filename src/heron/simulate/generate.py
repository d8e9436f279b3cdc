"""Run the simulation: benign days, then the attack chains at their times, in time order."""

from __future__ import annotations

import random
from dataclasses import dataclass

from heron.simulate.benign_agents import agents_day
from heron.simulate.benign_cloud import aws_day, azure_day
from heron.simulate.benign_linux import linux_day
from heron.simulate.benign_network import network_day
from heron.simulate.benign_windows import windows_day
from heron.simulate.chains import CHAINS, EMITTERS
from heron.simulate.company import Company, build_company
from heron.simulate.config import SimulationConfig
from heron.simulate.emit import Emitter
from heron.simulate.records import Record
from heron.simulate.rhythm import DAY, HOUR, is_weekend, shift_of

__all__ = ["Simulation", "chain_schedule", "simulate"]

# (day, hour) of each chain when the period is long enough; spread so that each lands
# in its own part of the week (night-time SSH, a working-day phish, an early-morning
# cloud key, an afternoon agent conversation).
_SPREAD = {
    "ssh-bruteforce": (0, 2.2),
    "phishing-to-exfiltration": (1, 10.3),
    "leaked-cloud-key": (2, 3.6),
    "agent-prompt-injection": (3, 15.1),
}
# Compact schedule (``SimulationConfig.compact_attacks``): all in the first hour.
_COMPACT = {
    "ssh-bruteforce": 0.05,
    "phishing-to-exfiltration": 0.1,
    "leaked-cloud-key": 0.15,
    "agent-prompt-injection": 0.2,
}


@dataclass(slots=True)
class Simulation:
    config: SimulationConfig
    company: Company
    records: list[Record]  # sorted by time, then by generation order


def chain_schedule(config: SimulationConfig, compact: bool = False) -> dict[str, int]:
    """When each chain starts (ns)."""
    out: dict[str, int] = {}
    for chain in CHAINS:
        if compact:
            out[chain.id] = config.start_ns + int(_COMPACT[chain.id] * HOUR)
        else:
            day, hour = _SPREAD[chain.id]
            out[chain.id] = config.start_ns + min(day, config.days - 1) * DAY + int(hour * HOUR)
    return out


def simulate(config: SimulationConfig, *, compact_attacks: bool = False) -> Simulation:
    """Every record of the simulated period, deterministic for ``config.seed``."""
    rng = random.Random(config.seed)
    company = build_company(config, rng)
    em = Emitter(company, rng)
    weekday0 = config.start.weekday()
    for d in range(config.days):
        day_ns = config.start_ns + d * DAY
        weekend = is_weekend(d, weekday0)
        shifts = {p.username: shift_of(p, day_ns, weekend, rng) for p in company.people}
        windows_day(em, company, d, day_ns, shifts, weekend, config.scale)
        linux_day(em, company, day_ns, shifts, scanners=rng.randint(2, 5))
        network_day(em, company, day_ns, weekend, config.scale)
        aws_day(em, company, day_ns, shifts, weekend)
        azure_day(em, company, shifts)
        agents_day(em, day_ns, weekend, config.scale)
    if config.chains:
        for chain_id, start in chain_schedule(config, compact_attacks).items():
            EMITTERS[chain_id](em, company, start)
    end = config.start_ns + config.days * DAY
    # Keep the period closed: a late logoff of the last day stays out.
    records = [r for r in em.records if config.start_ns <= r.time_ns < end]
    order = sorted(range(len(records)), key=lambda i: (records[i].time_ns, i))
    return Simulation(config, company, [records[i] for i in order])
