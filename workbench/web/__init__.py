"""The Gradio web UI: `workbench web` serves `build_app()` (see `workbench.web.app`)."""

from __future__ import annotations

__all__ = ["build_app", "launch_app"]


def __getattr__(name: str) -> object:
    # Lazy: importing gradio takes seconds, and `workbench.web.common` must stay light.
    if name in __all__:
        # why here: web.app imports gradio (gradio takes seconds to import)
        from workbench.web import app

        return getattr(app, name)
    raise AttributeError(name)
