"""Fault injection against real processes: engines killed or frozen, a RAG service
restarted, the runner killed, the results database read-only, locked or full (before a
run, and mid-run), and hostile input (fuzzed eval sets, broken or shell-laced recipes,
links out of an eval set folder) through the real CLI.

`python -m workbench.chaos` (or `make chaos`) runs every scenario end to end and prints
what was injected, whether each run completed, how many stored results were lost and how
many questions a stack was asked again (both must be 0).
"""

from workbench.chaos.lab import Lab
from workbench.chaos.report import ScenarioResult, render
from workbench.chaos.scenarios import SCENARIOS

__all__ = ["SCENARIOS", "Lab", "ScenarioResult", "render"]
