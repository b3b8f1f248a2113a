"""The SQLite results store."""

from workbench.store.db import Store, StoreError

__all__ = ["Store", "StoreError"]
