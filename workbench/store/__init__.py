"""The SQLite results store (the only package that speaks SQL).

The records it keeps (`ResponseRecord`, `LoadRequestRecord`, ...) live on the ground floor,
`workbench.records.responses`.
"""

from workbench.store.db import Store, StoreError

__all__ = ["Store", "StoreError"]
