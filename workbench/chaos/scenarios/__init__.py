"""The fault scenarios: each injects one fault into a real process or file and returns a row.

Every scenario drives the real runner CLI (`python -m workbench run ...`) against the
lab's real stacks and counts rows in the real SQLite file (`_checks` says how). One module
per group: `processes` (a-d), `database` (e1-e5), `bad_input` (f1-f12), `remote` (g1-g5:
faults on stacks that stand on other machines, on loopback aliases).
"""

from __future__ import annotations

from collections.abc import Callable

from workbench.chaos.lab import Lab
from workbench.chaos.report import ScenarioResult
from workbench.chaos.scenarios.bad_input import bad_input
from workbench.chaos.scenarios.database import (
    database_faults,
    database_locked_mid_run,
    disk_full_mid_run,
)
from workbench.chaos.scenarios.processes import (
    engine_frozen,
    engine_killed,
    rag_restarted,
    runner_killed,
)
from workbench.chaos.scenarios.remote import (
    remote_engine_refuses,
    remote_engine_stalls,
    remote_malformed_json,
    remote_malformed_sse,
    remote_resets,
)

__all__ = [
    "SCENARIOS", "bad_input", "database_faults", "database_locked_mid_run", "disk_full_mid_run",
    "engine_frozen", "engine_killed", "rag_restarted", "remote_engine_refuses",
    "remote_engine_stalls", "remote_malformed_json", "remote_malformed_sse", "remote_resets",
    "runner_killed",
]

#: Every scenario, in the order `python -m workbench.chaos` runs them.
SCENARIOS: list[Callable[[Lab], ScenarioResult | list[ScenarioResult]]] = [
    engine_killed, engine_frozen, runner_killed, rag_restarted, database_faults,
    database_locked_mid_run, disk_full_mid_run, bad_input, remote_engine_refuses,
    remote_engine_stalls, remote_malformed_json, remote_malformed_sse, remote_resets,
]
