"""Pick 2-8 stacks for a run, in order: each picked stack shows its place in the run
([1] is the baseline unless another is chosen), so the order reads the same in colour,
under NO_COLOR and over a slow SSH link."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option


class StackPicker(OptionList):
    """The stack recipes; space or Enter picks (or unpicks) the highlighted one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "pick", "Pick", show=False),
    ]

    class Changed(Message):
        """The picked stacks changed."""

        def __init__(self, picked: list[str]) -> None:
            self.picked = picked
            super().__init__()

    def __init__(self, stacks: list[str], picked: list[str], *, id: str | None = None) -> None:
        super().__init__(*[Option(self._prompt(s, None), id=s) for s in stacks], id=id)
        self.stacks = stacks
        #: The picked stacks, in run order.
        self.picked = [s for s in picked if s in stacks]

    def on_mount(self) -> None:
        """Number the initially picked stacks."""
        self._redraw()

    @staticmethod
    def _prompt(stack: str, place: int | None) -> str:
        return f"[{place}] {stack}" if place is not None else f"[ ] {stack}"

    def _redraw(self) -> None:
        for i, stack in enumerate(self.stacks):
            place = self.picked.index(stack) + 1 if stack in self.picked else None
            self.replace_option_prompt_at_index(i, self._prompt(stack, place))

    def toggle(self, stack: str) -> None:
        """Pick `stack` (last in the run order), or unpick it."""
        if stack in self.picked:
            self.picked.remove(stack)
        else:
            self.picked.append(stack)
        self._redraw()
        self.post_message(self.Changed(list(self.picked)))

    def set_picked(self, stacks: list[str]) -> None:
        """Replace the picked stacks (in this order)."""
        self.picked = [s for s in stacks if s in self.stacks]
        self._redraw()
        self.post_message(self.Changed(list(self.picked)))

    def action_pick(self) -> None:
        """Pick or unpick the highlighted stack."""
        if self.highlighted is not None:
            self.toggle(self.stacks[self.highlighted])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter picks too."""
        event.stop()
        if event.option.id is not None:
            self.toggle(event.option.id)
