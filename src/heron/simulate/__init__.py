"""A simulated company with labelled attack chains: files, live streams and scoring."""

from __future__ import annotations

from heron.simulate.config import SimulationConfig, SimulationError
from heron.simulate.generate import Simulation, simulate
from heron.simulate.output import build_labels, write_files

__all__ = [
    "Simulation",
    "SimulationConfig",
    "SimulationError",
    "build_labels",
    "simulate",
    "write_files",
]
