"""Data frames for the Results tab's plots, from the stored run and its scorecard.

Distributions are reduced before they reach the browser (101 quantiles per CDF, at most
`MAX_POINTS` dots per side in the scatter), so a 5,000-question run draws as fast as a
ten-question one. Aggregates shown as numbers elsewhere (hit@k) come from the scorecard.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.report.models import ScoreCard
from workbench.store.db import Store

MAX_POINTS = 1500

_LATEST_OK = (
    "SELECT side, ttft_ms, e2e_ms FROM responses s WHERE run_id = ? AND status = 'ok'"
    " AND attempt = (SELECT MAX(attempt) FROM responses t WHERE t.run_id = s.run_id"
    " AND t.question_id = s.question_id AND t.side = s.side) ORDER BY rowid"
)


def latencies(store: Store, run_id: str) -> pd.DataFrame:
    """TTFT and E2E (s) of every successful latest response: columns side, ttft_s, e2e_s."""
    rows = store.conn.execute(_LATEST_OK, (run_id,)).fetchall()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["side", "ttft_ms", "e2e_ms"])
    return pd.DataFrame({"side": frame["side"], "ttft_s": frame["ttft_ms"] / 1000,
                         "e2e_s": frame["e2e_ms"] / 1000})


def latency_cdf(lat: pd.DataFrame, column: str = "e2e_s") -> pd.DataFrame:
    """Empirical CDF per side at 101 quantiles: columns side, seconds, share."""
    parts = []
    share = np.linspace(0.0, 1.0, 101)
    for side, group in lat.groupby("side"):
        values = group[column].dropna().to_numpy(dtype=np.float64)
        if values.size:
            parts.append(pd.DataFrame({"side": str(side), "seconds": np.quantile(values, share),
                                       "share": share}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        {"side": [], "seconds": [], "share": []})


def ttft_vs_e2e(lat: pd.DataFrame) -> pd.DataFrame:
    """TTFT against E2E per request, thinned evenly to MAX_POINTS per side."""
    parts = []
    for _, group in lat.dropna().groupby("side"):
        step = max(1, len(group) // MAX_POINTS)
        parts.append(group.iloc[::step])
    return pd.concat(parts, ignore_index=True) if parts else lat.dropna()


def quality_by(card: ScoreCard, attribute: str) -> pd.DataFrame:
    """Mean per-question quality per side, by `lang` or by `answerable`.

    By language: mean token F1. By answerability: token F1 on answerable questions and
    the refusal rate on unanswerable ones (refusing is the right answer there).
    Columns: group, side, value, n.
    """
    sums: dict[tuple[str, str], list[float]] = {}
    for row in card.rows:
        if attribute == "lang":
            group, key = row.lang or "?", "f1"
        else:
            group, key = (("answerable", "f1") if row.answerable
                          else ("unanswerable", "refusal"))
        for side, scores in (("A", row.scores_a), ("B", row.scores_b)):
            value = scores.get(key)
            if value is not None:
                sums.setdefault((group, side), []).append(value)
    data = [(f"{g} · {s}", s, float(np.mean(v)), len(v)) for (g, s), v in sorted(sums.items())]
    return pd.DataFrame(data, columns=["group", "side", "value", "n"])


def hit_at_k(card: ScoreCard) -> pd.DataFrame:
    """Hit@k over k per side, from the scorecard's side summaries: columns k, hit_rate, side."""
    data = []
    for side, summary in card.sides.items():
        for key, value in summary.retrieval.items():
            if key.startswith("hit@") and value is not None:
                data.append((int(key.removeprefix("hit@")), value, side))
    return pd.DataFrame(sorted(data, key=lambda r: (r[2], r[0])),
                        columns=["k", "hit_rate", "side"])
