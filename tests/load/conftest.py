"""Fixtures of the load tests: the trivial streaming endpoint in its own process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from workbench.load.capacity import trivial_server


@pytest.fixture(scope="module")
def trivial_url() -> Iterator[str]:
    """`workbench.load.trivial_server` (fixed 3-chunk SSE stream, no model); its /v1 URL."""
    with trivial_server() as url:
        yield url
