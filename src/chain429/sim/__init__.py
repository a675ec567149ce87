"""Simulated OpenAI-compatible providers with real limits, header dialects and injected failures.

Used by the demo, the tests and the benchmarks; see `Simulator` for the Python API and
`python -m chain429.sim --config sim.yaml` for the command line.
"""

from __future__ import annotations

from chain429.sim.config import (
    Dialect,
    SimConfig,
    SimProviderConfig,
    load_sim_config,
    parse_sim_config,
)
from chain429.sim.provider import SimProvider, key_fingerprint
from chain429.sim.simulator import Simulator

__all__ = [
    "Dialect",
    "SimConfig",
    "SimProvider",
    "SimProviderConfig",
    "Simulator",
    "key_fingerprint",
    "load_sim_config",
    "parse_sim_config",
]
