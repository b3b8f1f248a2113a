"""Dense retrieval through Qdrant: one collection per space, point id = the chunk's row.

Qdrant answers every dense query: qdrant-client's local mode by default (a folder, or
`:memory:`), a Qdrant server when `QDRANT_URL` is set. There is no second, in-process
ranking: the numpy copy of the vectors an index keeps is for refilling a wiped Qdrant and
for MMR's chunk-to-chunk similarities, never for ranking chunks against a query.

Why the collections use the DOT distance: our vectors are unit length, so dot product is
the cosine; and qdrant-client's local mode re-normalises the whole collection on every
COSINE query (4.3 ms at 10,000 x 384 here, against 1.9 ms for DOT), which is most of the
query. Ties: neither engine orders equal scores (local mode uses an unstable argsort, the
server a heap), so results are put in (score desc, row asc) order, and a tie across the
cut-off is resolved by asking for more until the cut falls between two different scores.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from qdrant_client import QdrantClient, models

#: Points sent per upsert call.
_UPSERT_BATCH = 256
DISTANCE = models.Distance.DOT


@dataclass(frozen=True, slots=True)
class Hit:
    """A chunk (row of its space) and its score in one ranked list; higher is better."""

    row: int
    score: float


def qdrant_client_for(data_dir: Path, location: str | None = None) -> QdrantClient:
    """A server when QDRANT_URL is set, else `location` (e.g. `:memory:`), else local mode."""
    url = os.environ.get("QDRANT_URL")
    if url:
        return QdrantClient(url=url, api_key=os.environ.get("QDRANT_API_KEY"))
    if location is not None:
        return QdrantClient(location=location)
    folder = data_dir / "qdrant"
    folder.mkdir(parents=True, exist_ok=True)
    return QdrantClient(path=str(folder))


def collection_name(space_id: str) -> str:
    """Qdrant collection of a space (one per space)."""
    return f"space_{space_id}"


def is_server(client: QdrantClient) -> bool:
    """Whether `client` talks to a Qdrant server (not qdrant-client's local mode), read
    from its public `init_options` the way qdrant-client itself decides."""
    options = client.init_options
    return options.get("location") != ":memory:" and options.get("path") is None


@dataclass(frozen=True)
class QdrantDense:
    """The dense side of one space: its Qdrant collection."""

    client: QdrantClient
    collection: str

    def holds(self, count: int, dimension: int) -> bool:
        """Whether the collection exists with `count` points of `dimension` on DOT (an
        index from before the DOT change, or a wiped Qdrant, does not)."""
        if not self.client.collection_exists(self.collection):
            return False
        params = self.client.get_collection(self.collection).config.params.vectors
        if not isinstance(params, models.VectorParams):
            return False
        if params.distance != DISTANCE or params.size != dimension:
            return False
        return self.client.count(self.collection, exact=True).count == count

    def write(self, vectors: npt.NDArray[np.float32],
              payloads: Sequence[dict[str, object]]) -> None:
        """Replace the collection with these vectors (row i = point id i) and payloads."""
        if len(vectors) != len(payloads):
            raise ValueError(f"{len(vectors)} vectors but {len(payloads)} payloads")
        if self.client.collection_exists(self.collection):
            self.client.delete_collection(self.collection)
        self.client.create_collection(
            self.collection,
            vectors_config=models.VectorParams(size=int(vectors.shape[1]), distance=DISTANCE),
        )
        for start in range(0, len(payloads), _UPSERT_BATCH):
            stop = min(start + _UPSERT_BATCH, len(payloads))
            self.client.upsert(
                self.collection,
                models.Batch(ids=list(range(start, stop)), vectors=vectors[start:stop].tolist(),
                             payloads=list(payloads[start:stop])),
            )
        if is_server(self.client):
            # A Qdrant server filters faster with these; local mode has no payload indexes.
            for key in ("doc_id", "doc_type"):
                self.client.create_payload_index(self.collection, key,
                                                 models.PayloadSchemaType.KEYWORD)

    def search(self, query_vector: npt.NDArray[np.float32], n: int,
               doc_types: Sequence[str] | None = None) -> list[Hit]:
        """The `n` best chunks by dot product (= cosine), (score desc, row asc), keeping
        only chunks whose doc_type is in `doc_types` when it is given."""
        if n <= 0:
            return []
        query_filter = None
        if doc_types:
            query_filter = models.Filter(must=[models.FieldCondition(
                key="doc_type", match=models.MatchAny(any=list(doc_types)))])
        query = np.asarray(query_vector, dtype=np.float32)
        limit = n + 1  # one past the cut, to see whether a tie straddles it
        while True:
            points = self.client.query_points(
                self.collection, query=query, limit=limit, query_filter=query_filter,
                with_payload=False, with_vectors=False,
            ).points
            hits = sorted((Hit(int(p.id), float(p.score)) for p in points),
                          key=lambda h: (-h.score, h.row))
            if len(hits) < limit or hits[-1].score < hits[n - 1].score:
                return hits[:n]
            limit *= 2  # the tie goes on past what we fetched: fetch further
