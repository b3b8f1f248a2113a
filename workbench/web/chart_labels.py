"""Where each stack's name goes on the decision chart: beside its bubble, on the side where
it covers no other name and no other bubble and stays inside the plot.

Written at "top right" of every bubble, the names of two close stacks were drawn over each
other at 1024 px, and a slow stack's name ran off the right edge of the p95 axis. Plotly
does not move text out of the way, so the chart asks `place_labels` for each bubble's
`textposition` before it is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: The plot area (px) the placement plans for: the chart's inner area in a 1024 px window,
#: the narrowest the page supports (wider windows only add room between the names).
PLOT_W, PLOT_H = 820.0, 250.0
#: An 11 px name: the average width of a character and the height of a line (px).
CHAR_W, LINE_H = 6.8, 15.0
#: The positions tried, in order of preference (Plotly's `textposition` values).
POSITIONS = ("top right", "bottom right", "top left", "bottom left", "top center",
             "bottom center", "middle right", "middle left")

Box = tuple[float, float, float, float]  # left, bottom, right, top (px, y up)


@dataclass(frozen=True)
class Bubble:
    """One stack on the chart: its position (data units), diameter (px) and name."""

    x: float
    y: float
    size: float
    name: str


def _px(value: float, span: tuple[float, float], length: float) -> float:
    low, high = span
    return (value - low) / ((high - low) or 1.0) * length


def label_box(cx: float, cy: float, size: float, name: str, position: str) -> Box:
    """The box (px) a name takes at `position` beside a bubble centred at (cx, cy)."""
    r, w, h = size / 2, len(name) * CHAR_W, LINE_H
    vertical, _, horizontal = position.partition(" ")
    if horizontal == "right":
        left = cx + r * 0.7
    elif horizontal == "left":
        left = cx - r * 0.7 - w
    else:
        left = cx - w / 2
    if vertical == "top":
        bottom = cy + r * 0.7
    elif vertical == "bottom":
        bottom = cy - r * 0.7 - h
    else:
        bottom = cy - h / 2
    return left, bottom, left + w, bottom + h


def overlap(a: Box, b: Box) -> float:
    """The area (px²) two boxes share."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return max(0.0, width) * max(0.0, height)


def _outside(box: Box, width: float, height: float) -> float:
    area = (box[2] - box[0]) * (box[3] - box[1])
    return area - overlap(box, (0.0, 0.0, width, height))


def place_labels(bubbles: Sequence[Bubble], x_span: tuple[float, float],
                 y_span: tuple[float, float], width: float = PLOT_W,
                 height: float = PLOT_H) -> list[str]:
    """A `textposition` per bubble: the first of `POSITIONS` whose name box covers the
    least of the names already placed, of the other bubbles and of the space outside the
    plot (names are placed in the order given)."""
    centres = [(_px(b.x, x_span, width), _px(b.y, y_span, height)) for b in bubbles]
    marks = [(cx - b.size / 2, cy - b.size / 2, cx + b.size / 2, cy + b.size / 2)
             for (cx, cy), b in zip(centres, bubbles, strict=True)]
    placed: list[Box] = []
    chosen = []
    for i, (b, (cx, cy)) in enumerate(zip(bubbles, centres, strict=True)):
        def cost(position: str, b: Bubble = b, cx: float = cx, cy: float = cy,
                 i: int = i) -> float:
            box = label_box(cx, cy, b.size, b.name, position)
            return (sum(overlap(box, other) for other in placed)
                    + sum(overlap(box, m) for j, m in enumerate(marks) if j != i)
                    + 2 * _outside(box, width, height))

        best = min(POSITIONS, key=cost)  # min keeps the first of equals: the preferred
        placed.append(label_box(cx, cy, b.size, b.name, best))
        chosen.append(best)
    return chosen
