"""The decision chart's stack names: placed where they cover no other name or bubble and
stay inside the plot (`web.chart_labels`), on the synthetic three- and four-stack runs."""

from __future__ import annotations

from itertools import combinations

import pytest

from tests.web.test_charts import _card
from workbench.web.chart_labels import PLOT_H, PLOT_W, Bubble, label_box, overlap, place_labels
from workbench.web.pareto_chart import FRONT_NAME, pareto_figure


def test_two_close_bubbles_get_names_that_do_not_overlap() -> None:
    bubbles = [Bubble(1.14, 0.229, 30, "llamacpp-cpu"), Bubble(0.57, 0.195, 40, "vllm-cpu"),
               Bubble(0.9, 0.472, 20, "llamacpp-cpu-qwen05"),
               Bubble(11.8, 0.472, 14, "ollama-qwen25-05b-q4km")]
    spans = ((0.0, 12.0), (0.03, 0.67))
    where = place_labels(bubbles, *spans)
    boxes = [label_box((b.x - 0) / 12 * PLOT_W, (b.y - 0.03) / 0.64 * PLOT_H, b.size, b.name, w)
             for b, w in zip(bubbles, where, strict=True)]
    for a, b in combinations(boxes, 2):
        assert overlap(a, b) == 0, where
    # The slowest stack's name goes left of it: to the right it would leave the plot.
    assert where[3].endswith("left") and boxes[3][2] <= PLOT_W


@pytest.mark.parametrize("latency", ["median", "p95"])
@pytest.mark.parametrize("stacks", [3, 4])
def test_the_charts_names_are_placed_apart(latency: str, stacks: int) -> None:
    fig = pareto_figure(_card(stacks), latency)  # type: ignore[arg-type]
    x0, x1 = fig.layout.xaxis.range
    y0, y1 = fig.layout.yaxis.range
    boxes = []
    for t in fig.data:
        if t.name == FRONT_NAME or not t.text:
            continue
        cx, cy = (t.x[0] - x0) / (x1 - x0) * PLOT_W, (t.y[0] - y0) / (y1 - y0) * PLOT_H
        box = label_box(cx, cy, t.marker.size, t.text[0], t.textposition)
        assert box[0] >= 0 and box[2] <= PLOT_W, (t.name, t.textposition)
        boxes.append(box)
    assert len(boxes) == stacks
    for a, b in combinations(boxes, 2):
        assert overlap(a, b) == 0
