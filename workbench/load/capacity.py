"""How fast the load generator itself is: requests/s from one process and its send lag.

Measured against `trivial_server` (a fixed 3-chunk SSE stream, no model) started in its own
process, so the numbers describe the client only. Two measurements:
  * max requests/s: a fixed request count at high concurrency, all due at once;
  * send lag at a constant 200 requests/s: how late each request left against its schedule.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
from pydantic import BaseModel, Field

from workbench.load.client import EngineTarget
from workbench.load.driver import run_point
from workbench.load.metrics import summarize
from workbench.load.prompts import synthetic_prompts
from workbench.records.responses import PointSpec
from workbench.stacks.process import free_port


class ClientCapacity(BaseModel):
    """The generator's measured limits (trivial endpoint, one process, one event loop)."""

    max_requests_per_s: float
    max_requests: int
    max_concurrency: int
    max_errors: int
    lag_rate: float
    lag_p50_ms: float
    lag_p99_ms: float = Field(description="Median over the runs of each run's p99.")
    lag_p99_runs_ms: list[float] = Field(description="p99 of each run (the machine is shared).")
    lag_max_ms: float
    lag_requests: int = Field(description="Requests per run.")
    load_avg_1m: float = Field(description="The machine's 1-minute load average at the end.")
    cpus: int


@contextlib.contextmanager
def trivial_server(host: str = "127.0.0.1") -> Iterator[str]:
    """Start `trivial_server` in a child process on `host` (a loopback address); yields its
    /v1 URL; stops it after."""
    port = free_port()  # free on 127.0.0.1; another alias shares no port with it by luck
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench.load.trivial_server", "--port", str(port),
         "--host", host],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://{host}:{port}/health", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the trivial endpoint did not start")
            time.sleep(0.05)
        yield f"http://{host}:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def measure(
    url: str, *, requests: int = 5000, concurrency: int = 64, lag_rate: float = 200.0,
    lag_requests: int = 1000, lag_runs: int = 3,
) -> ClientCapacity:
    """Measure max requests/s and send lag at `lag_rate` against the endpoint at `url`.

    The lag is measured in `lag_runs` separate runs and the median p99 reported (with each
    run's), because on a shared machine one run can catch another process's CPU burst.
    """
    target = EngineTarget("trivial", url, "trivial", max_tokens=3)
    prompts = synthetic_prompts(32, 16, output_len=3)
    try:
        await run_point(target, prompts, PointSpec(requests=200, concurrency=concurrency))
        spec = PointSpec(requests=requests, concurrency=concurrency)
        fast = await run_point(target, prompts, spec)
        top = summarize(spec, fast.records, fast.duration_s)
        lag_spec = PointSpec(requests=lag_requests, rate=lag_rate, burstiness=math.inf)
        p50s, p99s, worst = [], [], 0.0
        for _ in range(lag_runs):
            paced = await run_point(target, prompts, lag_spec)
            lag = summarize(lag_spec, paced.records, paced.duration_s).send_lag
            assert lag is not None and lag.p50 is not None and lag.p99 is not None
            p50s.append(lag.p50 * 1000.0)  # summaries are in seconds; ClientCapacity in ms
            p99s.append(lag.p99 * 1000.0)
            worst = max(worst, max(max(r.send_lag_s, 0.0) for r in paced.records) * 1000.0)
    finally:
        await target.aclose()
    return ClientCapacity(
        max_requests_per_s=top.request_throughput, max_requests=requests,
        max_concurrency=concurrency, max_errors=top.failed, lag_rate=lag_rate,
        lag_p50_ms=statistics.median(p50s), lag_p99_ms=statistics.median(p99s),
        lag_p99_runs_ms=p99s, lag_max_ms=worst, lag_requests=lag_requests,
        load_avg_1m=os.getloadavg()[0], cpus=os.cpu_count() or 1,
    )


def measure_client_capacity(
    *, requests: int = 5000, concurrency: int = 64, lag_rate: float = 200.0,
    lag_requests: int = 1000, lag_runs: int = 3,
) -> ClientCapacity:
    """Start the trivial endpoint, measure the client against it, stop it."""
    with trivial_server() as url:
        return asyncio.run(measure(url, requests=requests, concurrency=concurrency,
                                   lag_rate=lag_rate, lag_requests=lag_requests,
                                   lag_runs=lag_runs))
