"""Data frames for the Results tab's plots, from the stored run and its scorecard.

One series per stack (the `stack` column is the colour; `workbench.web.charts` draws
them). Distributions are reduced before they reach the browser (101 quantiles per CDF, at
most `MAX_POINTS` dots per stack in the scatter, drawn as SVG), so a 5,000-question run
draws as fast as a ten-question one. Latencies are
derived by `RequestTiming` from the stored timestamps (`Store.ok_timings`); aggregates
shown as numbers elsewhere (hit@k) come from the scorecard.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.report.models import ScoreCard
from workbench.store.db import Store

MAX_POINTS = 800


def latencies(store: Store, run_id: str) -> pd.DataFrame:
    """TTFT and E2E (s) of every successful latest response: columns stack, ttft_s, e2e_s."""
    rows = [(stack, t.ttft_s(), t.e2e_s()) for stack, t in store.ok_timings(run_id)]
    return pd.DataFrame(rows, columns=["stack", "ttft_s", "e2e_s"]).astype(
        {"stack": str, "ttft_s": float, "e2e_s": float})


def latency_cdf(lat: pd.DataFrame, column: str = "e2e_s") -> pd.DataFrame:
    """Empirical CDF per stack at 101 quantiles: columns stack, seconds, share."""
    parts = []
    share = np.linspace(0.0, 1.0, 101)
    for stack, group in lat.groupby("stack", sort=False):
        values = group[column].dropna().to_numpy(dtype=np.float64)
        if values.size:
            parts.append(pd.DataFrame({"stack": str(stack),
                                       "seconds": np.quantile(values, share), "share": share}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        {"stack": [], "seconds": [], "share": []})


def ttft_vs_e2e(lat: pd.DataFrame) -> pd.DataFrame:
    """TTFT against E2E per request, thinned evenly to MAX_POINTS per stack."""
    parts = []
    for _, group in lat.dropna().groupby("stack", sort=False):
        step = max(1, -(-len(group) // MAX_POINTS))  # ceil: never more than MAX_POINTS
        parts.append(group.iloc[::step])
    return pd.concat(parts, ignore_index=True) if parts else lat.dropna()


def quality_by(card: ScoreCard, attribute: str) -> pd.DataFrame:
    """Mean per-question quality per stack, by `lang` or by `answerable`.

    By language: mean token F1. By answerability: token F1 on answerable questions and
    the refusal rate on unanswerable ones (refusing is the right answer there).
    Columns: group (the language, or "answerable: F1" / "unanswerable: refusal rate"),
    stack, value, n (groups sorted, stacks in run order).
    """
    sums: dict[tuple[str, str], list[float]] = {}
    for row in card.rows:
        if attribute == "lang":
            group, key = row.lang or "?", "f1"
        else:
            group, key = (("answerable: F1", "f1") if row.answerable
                          else ("unanswerable: refusal rate", "refusal"))
        for stack in card.stacks:
            value = (row.scores.get(stack) or {}).get(key)
            if value is not None:
                sums.setdefault((group, stack), []).append(value)
    order = {s: i for i, s in enumerate(card.stacks)}
    keys = sorted(sums, key=lambda k: (k[0], order[k[1]]))
    data = [(g, s, float(np.mean(sums[(g, s)])), len(sums[(g, s)])) for g, s in keys]
    return pd.DataFrame(data, columns=["group", "stack", "value", "n"])


def hit_at_k(card: ScoreCard) -> pd.DataFrame:
    """Hit@k over k per stack, from the scorecard's stack summaries: columns k, hit_rate,
    stack."""
    data = []
    for stack in card.stacks:
        for key, value in card.summaries[stack].retrieval.items():
            if key.startswith("hit@") and value is not None:
                data.append((int(key.removeprefix("hit@")), value, stack))
    return pd.DataFrame(sorted(data, key=lambda r: (card.stacks.index(r[2]), r[0])),
                        columns=["k", "hit_rate", "stack"])
