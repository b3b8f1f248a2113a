"""The bridge to Hugging Face `datasets`: local JSON Lines, Parquet and CSV, and hub sets.

Imported lazily by the loader: `datasets` takes seconds to import and the CLI's other
commands must stay fast.
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workbench.evalsets.errors import EvalSetError

#: `datasets` builder for each file suffix we read.
BUILDERS = {".jsonl": "json", ".parquet": "parquet", ".csv": "csv"}


@contextmanager
def _quiet() -> Iterator[None]:
    # Progress bars would interleave with the CLI's and the TUI's output.
    from datasets.utils import logging as ds_logging

    was_enabled = ds_logging.is_progress_bar_enabled()
    ds_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            ds_logging.enable_progress_bar()


def read_rows(path: Path, csv_columns: list[str] | None = None) -> list[dict[str, Any]]:
    """Every record of a local file through `datasets`, as plain dicts.

    The Arrow cache goes to a temporary folder removed afterwards (the rows are kept in
    memory), so nothing lands in ~/.cache/huggingface. CSV columns are read as strings:
    their JSON cells are decoded by the caller, as in the line-by-line check.
    """
    # why here: datasets is needed for hub sets only
    import datasets

    kwargs: dict[str, Any] = {}
    if path.suffix == ".csv" and csv_columns:
        kwargs["features"] = datasets.Features({c: datasets.Value("string") for c in csv_columns})
        kwargs |= {"keep_default_na": False, "na_filter": False}
    try:
        with _quiet(), tempfile.TemporaryDirectory(prefix="workbench-evalset-") as cache:
            ds = datasets.load_dataset(
                BUILDERS[path.suffix],
                data_files=str(path),
                split="train",
                cache_dir=cache,
                keep_in_memory=True,
                **kwargs,
            )
            rows: list[dict[str, Any]] = ds.to_list()
    except Exception as e:  # pyarrow and pandas raise many types: all mean "cannot read"
        raise EvalSetError.at(path, f"the datasets library could not read it: {e}") from e
    return rows


def hub_offline() -> bool:
    """Whether the user asked for no network (HF_HUB_OFFLINE / HF_DATASETS_OFFLINE)."""
    flags = (os.environ.get("HF_HUB_OFFLINE", ""), os.environ.get("HF_DATASETS_OFFLINE", ""))
    return any(flag.strip().lower() in {"1", "true", "yes", "on"} for flag in flags)


def _reachable(timeout: float = 3.0) -> str | None:
    """None if the hub endpoint answers a TCP connect, else why not.

    Offline, `datasets` retries for about 30 s before failing; a 3 s probe fails fast.
    """
    # why here: hub sets only
    from huggingface_hub import constants

    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return None  # only the proxy knows whether the hub is reachable

    url = urlsplit(constants.ENDPOINT)
    host, port = (
        url.hostname or "huggingface.co",
        url.port or (443 if url.scheme == "https" else 80),
    )
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as e:
        return f"cannot reach {host}:{port} ({e}); offline? use a local folder"
    return None


def read_hub_rows(
    repo_id: str, config: str | None, split: str, cache_dir: Path
) -> list[dict[str, Any]]:
    """Rows of a Hugging Face hub data set (downloaded once into `cache_dir`)."""
    where = f"hf:{repo_id}" + (f":{config}" if config else "") + f"@{split}"
    if hub_offline():
        raise EvalSetError.at(where, "offline (HF_HUB_OFFLINE is set): use a local folder")
    unreachable = _reachable()
    if unreachable:
        raise EvalSetError.at(where, unreachable)
    # why here: datasets is needed for hub sets only
    import datasets

    try:
        with _quiet():
            ds = datasets.load_dataset(repo_id, config, split=split, cache_dir=str(cache_dir))
            rows: list[dict[str, Any]] = ds.to_list()
    except Exception as e:  # network, auth and layout errors all mean "cannot load"
        raise EvalSetError.at(
            where, f"could not load it from the Hugging Face hub (offline?): {e}"
        ) from e
    return rows
