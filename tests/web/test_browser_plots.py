"""What a person sees in a real headless chromium, read from the rendered page: the Results
tab opens on the latest completed run (or the URL's), its charts have quantitative axes
with a handful of tick labels, one distinct colour per stack named in the legend and
titles inside their frames, at 1400x900 and 1024x768; the decision chart draws CI
whiskers, the Pareto front and a p95 view; a run in progress shows its stacks, progress
and errors. Screenshots go to test-artifacts/web/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import ARTIFACTS, LIVE_ANSWERED, serve
from workbench.web.common import WebConfig
from workbench.web.pareto_chart import FRONT_NAME
from workbench.web.results import CHARTS

pytestmark = pytest.mark.slow
SIZES = ((1400, 900), (1024, 768))
#: Every chart of the tab: the decision chart and the six details.
PLOTS = ("results-pareto", *(elem_id for elem_id, _ in CHARTS))

#: Reads one rendered Plotly chart: axis types, tick labels drawn, each trace's colour,
#: the legend's texts, and whether the title lies inside the chart's frame.
_READ = """(id) => {
  const box = document.getElementById(id);
  const plot = box.querySelector('.js-plotly-plot');
  const L = plot._fullLayout;
  const frame = box.getBoundingClientRect();
  const title = plot.querySelector('.gtitle').getBoundingClientRect();
  const ticks = (ax) => [...plot.querySelectorAll(`.${ax}axislayer-above .${ax}tick text`)]
      .map(t => t.textContent);
  return {
    xtype: L.xaxis.type, ytype: L.yaxis.type, xticks: ticks('x'), yticks: ticks('y'),
    xtitle: L.xaxis.title.text, ytitle: L.yaxis.title.text, title: L.title.text,
    traces: plot._fullData.map(t => ({name: t.name,
        color: (t.mode || '').includes('lines') && !(t.mode || '').includes('markers')
               ? t.line.color : (t.marker && typeof t.marker.color === 'string'
               ? t.marker.color : t.line && t.line.color)})),
    legend: [...plot.querySelectorAll('.legendtext')].map(t => t.textContent),
    titleInside: title.top >= frame.top - 1 && title.right <= frame.right + 1
                 && title.left >= frame.left - 1 && title.height > 0,
    errorbars: plot.querySelectorAll('g.errorbar').length,
    frontPath: [...plot.querySelectorAll('.scatterlayer .trace')].filter(
        t => t.querySelector('.js-line')).map(t => t.querySelector('.js-line').getAttribute('d')),
  };
}"""


def _read(page: Any, elem_id: str) -> dict[str, Any]:
    page.locator(f"#{elem_id} .js-plotly-plot .gtitle").wait_for(timeout=60_000)
    info: dict[str, Any] = page.evaluate(_READ, elem_id)
    return info


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.get_by_role("tab", name="Results").click()


def test_results_open_on_the_latest_run_with_charts_that_read_right(
        three_stacks: tuple[WebConfig, str], page: Any) -> None:
    cfg, run_id = three_stacks
    stacks = ["llamacpp-cpu", "vllm-cpu", "llamacpp-cpu-qwen05"]
    demo, url = serve(cfg)
    try:
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            _open(page, url)  # nothing picked: the latest completed run opens
            page.locator("#results-status", has_text=f"Run {run_id}").wait_for(timeout=60_000)
            for elem_id in PLOTS:
                page.locator(f"#{elem_id} .js-plotly-plot .legendtext").first.wait_for(
                    timeout=60_000)
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / f"results-plots-{width}x{height}.png"))
            page.screenshot(path=str(ARTIFACTS / f"results-plots-{width}x{height}-full.png"),
                            full_page=True)
            for elem_id in PLOTS:
                info = _read(page, elem_id)
                where = f"{elem_id} at {width}x{height}: {info}"
                bars = elem_id in ("results-by-lang", "results-by-answerable")
                assert info["xtype"] == ("category" if bars else "linear"), where
                assert info["ytype"] == "linear", where
                # A handful of labels, each a number (no smear of one tick per value).
                assert 2 <= len(info["yticks"]) <= 10, where
                if not bars:
                    assert 2 <= len(info["xticks"]) <= 10, where
                    assert "(s)" in info["xtitle"] or "k (" in info["xtitle"], where
                    float(info["xticks"][-1].replace("%", "").replace("−", "-"))
                else:
                    assert len(info["xticks"]) <= 2, where
                assert info["ytitle"], where
                assert info["titleInside"], where
                series = [t for t in info["traces"] if t["name"] != FRONT_NAME]
                assert [t["name"].removesuffix(" (baseline)") for t in series] == stacks, where
                assert len({t["color"] for t in series}) == 3, where
                for stack in stacks:
                    assert any(text.startswith(stack) for text in info["legend"]), where
    finally:
        demo.close()


def test_decision_chart_whiskers_front_and_p95(three_stacks: tuple[WebConfig, str],
                                               page: Any) -> None:
    cfg, _ = three_stacks
    demo, url = serve(cfg)
    try:
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            _open(page, url)
            info = _read(page, "results-pareto")
            assert "median E2E" in info["xtitle"] and "F1" in info["ytitle"]
            # Whiskers on both axes of all three stacks; the front is a drawn line.
            assert info["errorbars"] >= 3, info
            assert info["frontPath"] and all(d and d.count("L") >= 1
                                             for d in info["frontPath"]), info
            assert FRONT_NAME in info["legend"]
            # The decision comes first: the recommendation, the chart, then the leaderboard.
            tops = [page.locator(f"#results-{part}").bounding_box()["y"]
                    for part in ("choice", "pareto", "leaderboard", "report")]
            assert tops == sorted(tops), tops
            page.locator("#results-pareto").scroll_into_view_if_needed()
            page.locator("#results-pareto").screenshot(
                path=str(ARTIFACTS / f"pareto-{width}x{height}.png"))
            page.locator("#results-latency").get_by_text("p95 E2E").click()
            page.locator("#results-pareto .xtitle", has_text="p95 E2E").wait_for(
                timeout=30_000)
            page.locator("#results-pareto").screenshot(
                path=str(ARTIFACTS / f"pareto-p95-{width}x{height}.png"))
    finally:
        demo.close()


def test_a_live_run_shows_its_stacks_progress_and_errors(
        running_run: tuple[WebConfig, str, str], page: Any) -> None:
    cfg, done, live = running_run
    demo, url = serve(cfg)
    try:
        _open(page, url)  # the latest *completed* run, not the newer live one
        page.locator("#results-status", has_text=f"Run {done}").wait_for(timeout=60_000)
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            _open(page, f"{url}?run={live}")
            status = page.locator("#results-status")
            status.get_by_text("is running").wait_for(timeout=60_000)
            text = status.inner_text()
            assert "3 stacks (llamacpp-cpu, vllm-cpu, llamacpp-cpu-qwen05)" in text, text
            assert "54 of 120 answers stored, 4 failed" in text, text
            rows = {cells[0].removesuffix(" (baseline)"): cells[1:] for cells in (
                [c.strip() for c in r.split("\t")] for r in status.locator("tbody tr")
                .all_inner_texts())}
            for stack, answered in LIVE_ANSWERED.items():
                assert rows[stack][0] == f"{answered} / 40", rows
            assert "(none)" not in text and "0 responses" not in text
            page.wait_for_timeout(300)
            page.screenshot(path=str(ARTIFACTS / f"live-run-{width}x{height}.png"))
    finally:
        demo.close()
