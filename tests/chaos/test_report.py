"""The chaos table's totals row: faults injected, runs completed, refusals, lost, asked again."""

from __future__ import annotations

from rich.console import Console

from workbench.chaos.report import ScenarioResult, render


def text(results: list[ScenarioResult]) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(render(results))
    return console.export_text()


def test_totals_count_completed_refused_and_skipped() -> None:
    results = [
        ScenarioResult("a", "kill", completed=True, errors_recorded=2),
        ScenarioResult("e1", "read-only", completed=True, refusal=True),
        ScenarioResult("f1", "bad json", completed=True, refusal=True),
        ScenarioResult("e3", "full", skipped="no mount"),
    ]
    out = text(results)
    total = out[out.index("total"):]
    assert "3 faults injected, 1 skipped" in total
    assert "1 completed" in total and "2 refused, clearly" in total
    assert "all pass" in total
    assert "FAIL" not in out


def test_totals_show_losses_and_failures() -> None:
    results = [
        ScenarioResult("a", "kill", completed=True, lost=1),
        ScenarioResult("c", "kill runner", completed=True, reasked=2),
        ScenarioResult("d", "restart", completed=False, failure="run ended failed"),
    ]
    out = text(results)
    total_line = next(ln for ln in out.splitlines() if "total" in ln)
    cells = [c.strip() for c in total_line.split("│") if c.strip()]
    assert cells[:2] == ["total", "3 faults injected"]
    assert cells[2] == "2 completed"
    assert cells[3:6] == ["1", "2", "0"]  # lost, asked again, errors recorded
    assert "3 FAIL" in total_line


def test_brackets_in_messages_are_shown_not_taken_as_markup() -> None:
    result = ScenarioResult("f6", "gold_doc_ids: [p9]", completed=True, refusal=True,
                            notes=["field model.name: should match pattern '^[A-Za-z]'"])
    out = text([result])
    assert "[p9]" in out
    assert "'^[A-Za-z]'" in out
