"""Wording a person reads in the report and the gate: the load note once, no infinite
bounds from a gate on a handful of questions, and sample sizes counted in the right unit."""

from __future__ import annotations

import numpy as np
import pytest
from rich.console import Console

from tests.report.test_constraints_mutants import _plain
from tests.report.test_gate import B, _card, _with
from workbench.report.constraints import parse_constraint, parse_margin
from workbench.report.gate import check_margin
from workbench.report.render import render_markdown, render_rich


def test_the_report_says_chosen_at_concurrency_1_once() -> None:
    card = _card(12)
    assert card.load is None
    console = Console(record=True, width=200)
    console.print(render_rich(card))
    text = console.export_text()
    assert text.count("chosen at concurrency 1: the run had no load block") == 1, text
    assert render_markdown(card).count("chosen at concurrency 1: the run had no load") == 1


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("margin", ["f1=0.05", "e2e.p50=20%", "e2e.mean=20%"])
def test_a_gate_on_a_handful_of_questions_says_so_without_infinite_bounds(
        n: int, margin: str) -> None:
    card = _with(_card(n), np.array([1.0, 0.0, 1.0][:n]), np.array([1.0, 1.0, 0.0][:n]),
                 np.array([1.0, 2.0, 1.5][:n]), np.array([1.2, 1.1, 3.0][:n]))
    check = check_margin(card, B, parse_margin(margin))
    assert "inf" not in check.text and "∞" not in check.text, check.text
    assert "no sample size would settle it" not in check.text, check.text
    if n == 1:  # one pair bounds nothing, whatever the statistic
        assert check.state == "inconclusive"
        assert f"too few questions to bound the {'drop' if 'f1' in margin else 'rise'} " \
               "(n=1)" in check.text, check.text


def test_a_tok_s_limit_counts_requests_not_answers() -> None:
    s = _plain(n=30, value=12.5, timeouts=20)
    s.latency["tok_s"], s.values["tok_s"] = s.latency["e2e"], s.values["e2e"]
    text = parse_constraint("tok_s>=10").judge(s).text
    assert text.endswith("requests would settle it") and "answers" not in text, text
