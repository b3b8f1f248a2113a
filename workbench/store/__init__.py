"""The SQLite results store (the only package that speaks SQL) and the records it keeps."""

from workbench.store.db import Store, StoreError
from workbench.store.records import (
    LoadRequestRecord,
    PointSpec,
    RequestTiming,
    ResponseRecord,
    RetrievedSource,
    Status,
)

__all__ = ["LoadRequestRecord", "PointSpec", "RequestTiming", "ResponseRecord",
           "RetrievedSource", "Status", "Store", "StoreError"]
