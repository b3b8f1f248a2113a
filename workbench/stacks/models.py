"""Model files: find a recipe's GGUF (registry model, packaged resource or path) and digest it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from workbench.settings import get_settings
from workbench.stacks.fetch import ensure_gguf
from workbench.stacks.model_files import PACKAGE_PREFIX, ModelFileError, packaged_gguf
from workbench.stacks.recipe import Stack
from workbench.stacks.registry import REGISTRY_PREFIX, get_model, model_for_digest


def resolve_gguf(spec: str, base: Path | None = None) -> Path:
    """Path of a GGUF named `registry:<name>`, `package:<pkg>/<resource>` or by a
    (recipe-relative) file path.

    A registry model missing from the cache is fetched (and verified) here, with a progress
    bar on stderr: that is what "fetched on demand" means for `workbench up`. A package
    resource is found without importing its package (`model_files.packaged_gguf`).
    """
    if spec.startswith(REGISTRY_PREFIX):
        return ensure_gguf(get_model(spec.removeprefix(REGISTRY_PREFIX)),
                           get_settings().cache_dir)
    if spec.startswith(PACKAGE_PREFIX):
        return packaged_gguf(spec)
    path = Path(spec)
    if not path.is_absolute() and base is not None:
        path = base / path
    if not path.is_file():
        looked = f" (looked for {path})" if str(path) != spec else ""
        raise ModelFileError(f"model file {spec!r} does not exist{looked}")
    return path


def recipe_gguf(stack: Stack) -> Path:
    """The GGUF file a recipe's `model.gguf` names (recipe-relative paths resolved).

    A missing file is a `ModelFileError` naming the recipe file and the field
    (`stacks/foo.yaml: field model.gguf: model file 'x' does not exist`), as recipe
    loading errors do: the recipe loads fine, the launch is where the file is needed.
    """
    assert stack.model is not None
    source = stack.source_path
    try:
        return resolve_gguf(stack.model.gguf, source.parent if source else None)
    except ModelFileError as exc:
        where = str(source) if source else f"stack {stack.name!r}"
        raise ModelFileError(f"{where}: field model.gguf: {exc}") from exc


def gguf_digest(path: Path) -> str:
    """sha256 of a GGUF; for a registry model in the cache, the digest it is named by.

    The cache file was verified against the registry before its atomic rename, so reading
    491 MB-1.1 GB again on every launch (the vLLM conversion cache is keyed by it) would
    prove nothing new. Any other file is hashed.
    """
    known = model_for_digest(path.stem) if path.suffix == ".gguf" else None
    if (known is not None and path.parent.name == "models" and path.is_file()
            and path.stat().st_size == known.size):
        return known.sha256
    return file_digest(path)


def file_digest(path: Path, chunk: int = 1 << 20) -> str:
    """sha256 of a file (recorded in run manifests; keys the vLLM conversion cache)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
