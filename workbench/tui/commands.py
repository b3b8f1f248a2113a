"""The command palette's workbench commands: go to a screen, act on the current one."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from workbench.tui.app import WorkbenchApp


class WorkbenchCommands(Provider):
    """Screens and actions by name (ctrl+p, then type e.g. `results` or `wins`)."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = cast("WorkbenchApp", self.app)
        cmds: list[tuple[str, str, Callable[[], object]]] = [
            (f"Go to {title}", f"Show the {title} screen ({key})",
             partial(app.action_switch_mode, mode))
            for mode, (key, title) in app.SCREEN_KEYS.items()
        ]
        # The current screen's own actions, by their footer description.
        for binding in self.screen.BINDINGS:
            if isinstance(binding, tuple) or not binding.show:
                continue
            action = binding.action
            cmds.append((binding.description, f"{binding.description} ({binding.key})",
                         partial(self.screen.run_action, action)))
        return cmds

    async def discover(self) -> Hits:
        """Everything, before the user types."""
        for name, help_text, run in self._commands():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        """Commands whose name fuzzily matches `query`."""
        matcher = self.matcher(query)
        for name, help_text, run in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, text=name, help=help_text)
