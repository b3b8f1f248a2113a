"""`workbench bench`: load and latency benchmark of stacks (engine or RAG service) or a URL.

    workbench bench --stacks A,B --target engine --evalset demo-en --concurrency 1,2,4,8
    workbench bench --stacks A,B --target rag --evalset demo-en --rate 1,2 --burstiness 1
    workbench bench --url http://127.0.0.1:P/v1 --model NAME --input-len 128 --output-len 64 \\
        --ignore-eos --concurrency 8 --requests 1000 --slo ttft=500ms,tpot=50ms
    workbench bench --report latest [--json]
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from workbench.cli.app import app, fail
from workbench.evalsets.loader import load_evalset
from workbench.runner.client import RagServiceClient
from workbench.settings import get_settings
from workbench.stacks.kinds import stack_kind
from workbench.stacks.launcher import running_stack
from workbench.store import Store, StoreError
from workbench.store.load_benches import LoadBenchStore


def _ints(text: str, option: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise fail(f"{option}: expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise fail(f"{option}: values must be >= 1")
    return values


def _floats(text: str, option: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise fail(f"{option}: expected comma-separated numbers, got {text!r}") from None
    if not values or min(values) <= 0:
        raise fail(f"{option}: values must be > 0")
    return values


def _open_store(db: Path | None) -> LoadBenchStore:
    try:
        return LoadBenchStore(Store(db or get_settings().db_path))
    except StoreError as exc:
        raise fail(str(exc)) from exc


def _show(store: LoadBenchStore, ref: str, as_json: bool) -> None:
    # why here: load imports scoring, which imports SciPy (seconds to import)
    from workbench.load.report import load_table, render, to_json

    try:
        table = load_table(store, ref)
    except KeyError as exc:
        raise fail(str(exc.args[0])) from exc
    if as_json:
        typer.echo(to_json(table))
    else:
        render(table)


@app.command("bench")
def bench_command(
    stacks: str = typer.Option(None, "--stacks", "-s", help="Running stacks to load: A,B"),
    url: str = typer.Option(None, "--url", help="Drive one OpenAI-compatible /v1 URL directly."),
    model: str = typer.Option(None, "--model", help="Model name for --url."),
    label: str = typer.Option(None, "--label", help="Name of the --url stack (default: url)."),
    target: str = typer.Option("engine", "--target", "-t", help="engine | rag (for --stacks)"),
    evalset: str = typer.Option(None, "--evalset", "-e", help="Real RAG prompts from an eval set."),
    limit: int = typer.Option(None, "--limit", "-n", min=1, help="Use only N eval questions."),
    prompts_file: Path = typer.Option(None, "--prompts", help="JSONL prompts (vLLM custom)."),
    input_len: int = typer.Option(None, "--input-len", min=1, help="Synthetic prompt tokens."),
    output_len: int = typer.Option(None, "--output-len", min=1, help="Output tokens per request."),
    ignore_eos: bool = typer.Option(False, "--ignore-eos", help="Exact output lengths (engine)."),
    concurrency: str = typer.Option(None, "--concurrency", "-c", help="Sweep levels: 1,2,4,8"),
    rate: str = typer.Option(None, "--rate", help="Arrival rates (req/s): 2,4,8"),
    burstiness: float = typer.Option(1.0, "--burstiness", help="1 Poisson, inf constant"),
    requests: int = typer.Option(None, "--requests", min=1, help="Requests per level."),
    per_level: int = typer.Option(8, "--per-level", min=1, help="Sweep: requests = this x c."),
    max_seconds: float = typer.Option(300.0, "--max-seconds", help="Cap per level (s)."),
    slo: str = typer.Option(None, "--slo", help="Goodput SLOs: ttft=500ms,tpot=50ms,e2e=5s"),
    max_tokens: int = typer.Option(None, "--max-tokens", help="Answer cap (default: recipe's)."),
    warmup: int = typer.Option(2, "--warmup", min=0, help="Uncounted requests per stack."),
    seed: int = typer.Option(0, "--seed", help="Arrival schedule and synthetic prompt seed."),
    interval: float = typer.Option(0.5, "--interval", min=0.05, help="Resource sample period."),
    pid: list[int] = typer.Option(None, "--pid", help="Also sample this process tree (--url)."),
    timeout: float = typer.Option(120.0, "--timeout", help="Per-request timeout (s)."),
    min_gain: float = typer.Option(0.05, "--min-gain", help="Saturation: throughput gain below."),
    db: Path = typer.Option(None, "--db", help="Results database (default .state/workbench.db)."),
    report: str = typer.Option(None, "--report", help="Only show a stored bench (id or latest)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    allow_remote: bool = typer.Option(
        False, "--allow-remote", help="Allow a target on another machine (only 127.0.0.1 "
        "without it, unless a stack's recipe says allow_remote: true)."),
) -> None:
    """Load-test stacks or an endpoint: concurrency sweep, rate/Poisson arrivals, fixed count."""
    store = _open_store(db)
    if report:
        _show(store, report, as_json)
        return
    # why here: load imports scoring, which imports SciPy (seconds to import)
    from workbench.load.metrics import parse_slo

    if (stacks is None) == (url is None):
        raise fail("give --stacks A,B (running stacks) or --url URL --model NAME")
    if url is not None and model is None:
        raise fail("--url needs --model (the served model name)")
    if target not in ("engine", "rag"):
        raise fail(f"--target: unknown target {target!r}; known: engine, rag")
    if sum(x is not None for x in (evalset, prompts_file, input_len)) != 1:
        raise fail("choose the prompts: --evalset REF, --prompts FILE or --input-len N")
    try:
        slo_s = parse_slo(slo)
        points = _points(concurrency, rate, burstiness, requests, per_level, seed, max_seconds)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    console = Console(stderr=True)
    try:
        bench_id = asyncio.run(_run(
            store, console, stacks=stacks, url=url, model=model, label=label or "url",
            target=target, evalset=evalset, limit=limit, prompts_file=prompts_file,
            input_len=input_len, output_len=output_len, ignore_eos=ignore_eos, slo=slo_s,
            points=points, max_tokens=max_tokens, warmup=warmup, seed=seed, interval=interval,
            pids=pid or [], timeout=timeout, min_gain=min_gain, allow_remote=allow_remote,
        ))
    except KeyboardInterrupt:
        raise fail("interrupted; the points measured so far are stored", code=130) from None
    _show(store, bench_id, as_json)


def _points(
    concurrency: str | None, rate: str | None, burstiness: float, requests: int | None,
    per_level: int, seed: int, max_seconds: float,
) -> list[Any]:
    # why here: load imports scoring, which imports SciPy (seconds to import)
    from workbench.load.sweep import rate_points, sweep_points

    if rate is not None:
        levels = _ints(concurrency, "--concurrency") if concurrency else [None]
        if len(levels) > 1:
            raise ValueError("--rate takes at most one --concurrency cap")
        return rate_points(_floats(rate, "--rate"), requests or 50, concurrency=levels[0],
                           burstiness=burstiness, seed=seed, max_seconds=max_seconds)
    if math.isinf(burstiness) or burstiness != 1.0:
        raise ValueError("--burstiness shapes arrivals: it needs --rate")
    return sweep_points(_ints(concurrency or "1,2,4,8", "--concurrency"), requests,
                        per_level=per_level, seed=seed, max_seconds=max_seconds)


async def _run(store: LoadBenchStore, console: Console, **o: Any) -> str:
    # why here: load imports scoring, which imports SciPy (seconds to import)
    from workbench.load.bench_stacks import (
        BenchStackError,
        running_bench_stack,
        url_bench_stack,
    )
    from workbench.load.sweep import BenchConfig, BenchStack, run_bench

    settings = get_settings()
    meta: dict[str, Any] = {"ignore_eos": o["ignore_eos"], "output_len": o["output_len"]}
    evalset = None
    if o["evalset"]:
        try:
            evalset = load_evalset(o["evalset"], settings)
        except Exception as exc:  # the loader's errors name the file and field
            raise fail(str(exc)) from exc
        meta.update(evalset=evalset.name, evalset_digest=evalset.digest)
    loaded: list[BenchStack] = []
    try:
        if o["url"]:
            loaded.append(url_bench_stack(o["url"], o["model"], label=o["label"],
                                          max_tokens=o["max_tokens"] or o["output_len"] or 96,
                                          ignore_eos=o["ignore_eos"], timeout_s=o["timeout"],
                                          pids=o["pids"], allow_remote=o["allow_remote"]))
            meta["url"], meta["model"] = o["url"], o["model"]
        else:
            names = [n.strip() for n in o["stacks"].split(",") if n.strip()]
            recipes = {}
            for name in names:
                one, recipe = running_bench_stack(
                    name, o["target"], settings, max_tokens=o["max_tokens"],
                    ignore_eos=o["ignore_eos"], timeout_s=o["timeout"],
                    space_id=evalset.space_id if evalset else "default",
                    allow_remote=o["allow_remote"])
                loaded.append(one)
                recipes[name] = recipe.model_dump(mode="json")
            meta["recipes"] = recipes
        for s in loaded:  # where every request goes, before the first one is sent
            if s.route is not None:
                console.print(f"traffic: {s.route.describe()}", highlight=False,
                              style="yellow" if s.route.remote else None)
        meta["traffic"] = [s.route.describe() for s in loaded if s.route is not None]
        prompts = await _prompts(loaded, evalset, o, meta, console)
    except (BenchStackError, ValueError, OSError) as exc:
        for s in loaded:
            await s.target.aclose()
        raise fail(str(exc)) from exc
    kind = "url" if o["url"] else o["target"]
    if kind == "rag" and evalset is not None:
        await _index(loaded, evalset, console)
    config = BenchConfig(points=o["points"], slo=o["slo"], warmup=o["warmup"],
                         sample_interval_s=o["interval"], min_gain=o["min_gain"])
    return await run_bench(store, loaded, prompts, config, target_kind=kind, meta=meta,
                           progress=lambda msg: console.print(msg))


async def _prompts(loaded: list[Any], evalset: Any, o: dict[str, Any], meta: dict[str, Any],
                   console: Console) -> list[Any]:
    """The prompts every stack gets (the same list, so every stack is asked alike)."""
    # why here: load imports scoring, which imports SciPy (seconds to import)
    from workbench.load import prompts as P
    from workbench.load.bench_stacks import calibrated_prompts

    if evalset is not None:
        prompts = P.rag_prompts(evalset, for_engine=o["target"] == "engine" or bool(o["url"]),
                                limit=o["limit"])
        if o["output_len"]:
            prompts = [dataclasses.replace(p, output_len=o["output_len"]) for p in prompts]
        meta["prompts_from"] = "evalset"
    elif o["prompts_file"] is not None:
        prompts = P.read_jsonl(o["prompts_file"], output_len=o["output_len"])
        meta["prompts_from"] = str(o["prompts_file"])
    else:
        if o["target"] == "rag" and not o["url"]:
            raise ValueError("--target rag needs real questions: use --evalset")
        count = max(p.requests for p in o["points"])
        prompts, measured = await calibrated_prompts(
            loaded[0].target, min(count, 256), o["input_len"], o["output_len"], o["seed"])
        console.print(f"synthetic prompts: {measured} prompt tokens on {loaded[0].name} "
                      f"(asked {o['input_len']})")
        meta.update(prompts_from="synthetic", input_len=o["input_len"], input_tokens=measured)
    if not prompts:
        raise ValueError("no prompts: the eval set has no questions with gold passages")
    return list(prompts)


async def _index(loaded: list[Any], evalset: Any, console: Console) -> None:
    """The RAG services need the eval set's corpus indexed (reused when unchanged)."""
    passages = [p.model_dump() for p in evalset.passages]
    for one in loaded:
        stack = running_stack(one.name, get_settings())
        if stack is None or not stack_kind(stack).starts_rag_service:
            continue
        client = RagServiceClient(stack)
        try:
            note = await client.prepare(evalset.space_id, passages)
        finally:
            await client.aclose()
        console.print(f"{one.name}: {note}")
