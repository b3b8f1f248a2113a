"""Stacks: recipes (`stacks/*.yaml`), engine adapters, and the launcher that runs them.

The names below are re-exported lazily so that importing `workbench.stacks.recipe` (which
most of the project does) does not load the launcher.

    from workbench.stacks import up, up_many, down, status, running_stack
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Stack": "workbench.stacks.recipe",
    "RecipeError": "workbench.stacks.recipe",
    "get_stack": "workbench.stacks.recipe",
    "load_stacks": "workbench.stacks.recipe",
    "RunningStack": "workbench.stacks.launcher",
    "up": "workbench.stacks.launcher",
    "up_many": "workbench.stacks.placement",
    "down": "workbench.stacks.launcher",
    "running_stack": "workbench.stacks.launcher",
    "place": "workbench.stacks.launcher",
    "LaunchError": "workbench.stacks.process",
    "EngineUnavailableError": "workbench.stacks.engines.base",
    "StackStatus": "workbench.stacks.status",
    "status": "workbench.stacks.status",
    "load_started": "workbench.stacks.state",
    "default_stacks": "workbench.stacks.defaults",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
