"""BM25 over chunks: rank-bm25's BM25Okapi statistics, scored with a sparse matrix.

`BM25Okapi.get_scores` loops in Python over every document for every query term (about
10 ms per term at 10k chunks here), too slow for a 25 ms search budget. We keep its idf,
document lengths and parameters, precompute each (chunk, term) contribution
`idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avgdl))` once into a sparse
column matrix, and score a query as a sum of its terms' columns: the same numbers
(tests compare them with `get_scores`), in well under a millisecond.
"""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from rank_bm25 import BM25Okapi
from scipy.sparse import csc_matrix

from workbench.rag.text import tokenize


class BM25Index:
    """BM25 (Okapi) scores of a query against every chunk of one space."""

    def __init__(self, texts: Sequence[str]) -> None:
        corpus = [tokenize(t) or ["\u2205"] for t in texts]  # BM25Okapi cannot take empty docs
        self.okapi = BM25Okapi(corpus)
        self.vocab: dict[str, int] = {term: i for i, term in enumerate(self.okapi.idf)}
        ok = self.okapi
        rows: list[int] = []
        cols: list[int] = []
        data: list[float] = []
        for d, (freqs, length) in enumerate(zip(ok.doc_freqs, ok.doc_len, strict=True)):
            norm = ok.k1 * (1 - ok.b + ok.b * length / ok.avgdl)
            for term, tf in freqs.items():
                rows.append(d)
                cols.append(self.vocab[term])
                data.append(ok.idf[term] * tf * (ok.k1 + 1) / (tf + norm))
        self.matrix = csc_matrix(
            (np.asarray(data, dtype=np.float64), (rows, cols)),
            shape=(len(corpus), len(self.vocab)),
        )

    def __len__(self) -> int:
        return int(self.matrix.shape[0])

    def scores(self, query: str) -> npt.NDArray[np.float64]:
        """One score per chunk (0 where no query term occurs)."""
        counts = Counter(t for t in tokenize(query) if t in self.vocab)
        if not counts:
            return np.zeros(len(self), dtype=np.float64)
        cols = [self.vocab[t] for t in counts]
        weights = np.asarray([counts[t] for t in counts], dtype=np.float64)
        return np.asarray(self.matrix[:, cols] @ weights, dtype=np.float64).ravel()

    def save(self, path: Path) -> None:
        """Pickle to `path` (written to a temporary file first, then renamed)."""
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)

    @staticmethod
    def load(path: Path) -> BM25Index:
        """Unpickle an index this service wrote into its own data folder."""
        with path.open("rb") as f:
            # Only our own files, in the service's data dir, are ever unpickled.
            obj = pickle.load(f)  # noqa: S301
        if not isinstance(obj, BM25Index):
            raise TypeError(f"{path}: not a BM25 index")
        return obj
