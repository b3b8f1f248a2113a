"""The runner: sends the same questions to every stack of a run (2-8, one the baseline),
times each streamed answer on the client and stores it the moment it arrives."""

from workbench.runner.picks import MAX_STACKS
from workbench.runner.run import SCHEDULES, RunError, RunOptions, RunProgress
from workbench.runner.session import PreparedRun, create_run, execute, reopen_run

__all__ = ["MAX_STACKS", "SCHEDULES", "PreparedRun", "RunError", "RunOptions", "RunProgress",
           "create_run", "execute", "reopen_run"]
