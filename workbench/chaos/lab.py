"""A throw-away pair of real stacks for fault injection, and the runner CLI to drive it.

Two llama.cpp `llama-server`s (one per stack, so killing one leaves the other alone) serve
the packaged SmolLM2 GGUF, each behind its own RAG service (`python -m workbench.rag`).
Everything binds 127.0.0.1 on free ports (never 8000/9000) and lives in a temp folder;
every pid started is recorded so that `close()` stops exactly those process groups.

`start_remote()` adds the "remote" stacks, on loopback aliases that stand in for other
machines (the lab's WORKBENCH_REMOTE_HOSTS permits only those): a real llama.cpp on
127.0.0.2 behind a local RAG service (stack `remote-b`, the engine reached by
`engine_url`), and a breakable fake backend of the seed shape on 127.0.0.3 (stacks
`ext-json` and `ext-sse`, `workbench.chaos.remote_fake`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx

from workbench.chaos.remote_fake import RemoteFake
from workbench.evalsets.loader import load_evalset
from workbench.rag.service import ASK_RECEIVED
from workbench.settings import PROJECT_ROOT, get_settings
from workbench.stacks.engines.base import EngineUnavailableError
from workbench.stacks.engines.llamacpp import llama_server_argv
from workbench.stacks.models import resolve_gguf
from workbench.stacks.process import LaunchError, Server, free_port
from workbench.stacks.rag_service import rag_service
from workbench.stacks.recipe import PACKAGED_GGUF, ExternalAPI, Generation, Ports, Stack, get_stack
from workbench.store.inspect import rows
from workbench.targets import REMOTE_HOSTS_ENV

#: The lab's two local stacks by their display alias (A is the baseline of every run).
LAB_STACKS = {"A": "stack-a", "B": "stack-b"}
#: The hosts that stand in for other machines, and the lab's remote stacks.
REMOTE_ENGINE_HOST, REMOTE_BACKEND_HOST = "127.0.0.2", "127.0.0.3"
REMOTE_STACKS = ("remote-b", "ext-json", "ext-sse")
#: Key of one stored response: (run, question, stack name, attempt).


class LabError(RuntimeError):
    """The lab could not be set up (no llama.cpp, a server never became healthy, ...)."""


class Lab:
    """Two real stacks (engine + RAG service per stack) in a temp folder; a context manager."""

    def __init__(self, root: Path | None = None, *, max_tokens: int = 16,
                 engine_timeout_s: float = 60.0) -> None:
        self.root = root or Path(tempfile.mkdtemp(prefix="wb-chaos-"))
        self._own_root = root is None
        self.max_tokens = max_tokens
        self.engine_timeout_s = engine_timeout_s
        self.stacks_dir = self.root / "stacks"
        self.state_dir = self.root / "state"
        self.engines: dict[str, Server] = {}
        self.rags: dict[str, Server] = {}
        self.runners: list[subprocess.Popen[bytes]] = []
        #: The remote stacks (`start_remote`): engine on 127.0.0.2, its RAG service, the fake.
        self.remote_engine: Server | None = None
        self.remote_rag: Server | None = None
        self.fake: RemoteFake | None = None

    # --- set-up -------------------------------------------------------------------------
    def __enter__(self) -> Lab:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    def env(self) -> dict[str, str]:
        """Environment for the workbench CLI: this lab's recipes and state folder."""
        return {"WORKBENCH_STACKS_DIR": str(self.stacks_dir),
                "WORKBENCH_STATE_DIR": str(self.state_dir), "HF_HUB_OFFLINE": "1",
                REMOTE_HOSTS_ENV: f"{REMOTE_ENGINE_HOST},{REMOTE_BACKEND_HOST}"}

    def start(self) -> None:
        """Start both engines and both RAG services, then index demo-en on each."""
        try:
            self._start()
        except LaunchError as exc:
            raise LabError(str(exc)) from exc

    def _start(self) -> None:
        gguf = str(resolve_gguf(PACKAGED_GGUF))
        self.stacks_dir.mkdir(parents=True, exist_ok=True)
        base = get_stack("llamacpp-cpu", PROJECT_ROOT / "stacks")
        for alias, name in LAB_STACKS.items():
            port = free_port()
            try:
                argv = llama_server_argv(gguf, port, context=2048, slots=2, threads=1,
                                         alias="smollm2-135m-instruct")
            except EngineUnavailableError as exc:
                raise LabError(str(exc)) from exc
            # `Server` (the launcher's primitives), not `local_llama_server`: a scenario
            # kills this engine and starts it again on the same port.
            self.engines[alias] = Server(
                f"engine {alias}", argv,
                f"http://127.0.0.1:{port}/health", self.root / f"engine-{alias}.log",
            )
            self.engines[alias].start(60)
            gen = Generation(max_tokens=self.max_tokens, context_window=2048,
                             timeout_s=self.engine_timeout_s)
            stack = base.model_copy(update={"name": name, "generation": gen}).with_ports(
                free_port(), port)
            recipe = self.stacks_dir / f"{name}.yaml"  # JSON is valid YAML
            recipe.write_text(stack.model_dump_json())
            self.rags[alias] = rag_service(
                stack, recipe, self.root / f"rag-{alias}.log", state_dir=self.state_dir,
                data_dir=self.root / "index" / name, env=self.env,
            )
        for alias in LAB_STACKS:
            self.rags[alias].start()
        self._index()

    def start_remote(self) -> None:
        """Start the remote stacks once (see the module's docstring); later calls do nothing."""
        if self.fake is not None:
            return
        try:
            self._start_remote()
        except LaunchError as exc:
            raise LabError(str(exc)) from exc

    def _start_remote(self) -> None:
        self.fake = RemoteFake(REMOTE_BACKEND_HOST).start()
        for name, stream in (("ext-json", False), ("ext-sse", True)):
            ext = Stack(name=name, engine="external", launch="none",
                        ports=Ports(rag=self.fake.port),
                        external=ExternalAPI(url=self.fake.url, stream=stream))
            (self.stacks_dir / f"{name}.yaml").write_text(ext.model_dump_json())
        port = _free_port_on(REMOTE_ENGINE_HOST)
        argv = llama_server_argv(str(resolve_gguf(PACKAGED_GGUF)), port, context=2048,
                                 slots=2, threads=1, alias="smollm2-135m-instruct",
                                 host=REMOTE_ENGINE_HOST)
        self.remote_engine = Server("remote engine", argv,
                                    f"http://{REMOTE_ENGINE_HOST}:{port}/health",
                                    self.root / "engine-remote.log")
        self.remote_engine.start(60)
        base = get_stack("llamacpp-cpu", PROJECT_ROOT / "stacks")
        gen = Generation(max_tokens=self.max_tokens, context_window=2048,
                         timeout_s=self.engine_timeout_s)
        update: dict[str, object] = {
            "name": "remote-b", "generation": gen, "launch": "remote",  # not ours to start
            "engine_url": f"http://{REMOTE_ENGINE_HOST}:{port}/v1"}
        # The engine port only satisfies recipes that predate `launch: remote`; engine_url wins.
        stack = base.model_copy(update=update).with_ports(free_port(), port)
        recipe = self.stacks_dir / "remote-b.yaml"
        recipe.write_text(stack.model_dump_json())
        self.remote_rag = rag_service(stack, recipe, self.root / "rag-remote.log",
                                      state_dir=self.state_dir,
                                      data_dir=self.root / "index" / "remote-b", env=self.env)
        self.remote_rag.start()
        self._index([self.remote_rag])

    def _index(self, servers: list[Server] | None = None) -> None:
        # The first /index embeds the corpus and loads MiniLM: paid here, not in a scenario.
        evalset = load_evalset("demo-en", settings=get_settings())
        passages = [p.model_dump() for p in evalset.passages]
        for server in servers if servers is not None else list(self.rags.values()):
            base = server.health_url.rsplit("/", 1)[0]
            resp = httpx.post(f"{base}/index", json={"space_id": evalset.space_id,
                                                     "passages": passages}, timeout=600)
            if resp.status_code != 200:
                raise LabError(f"{server.name}: indexing failed: {resp.text[:500]}")

    def close(self) -> None:
        """Stop every process this lab started (by recorded pid only) and remove its folder."""
        for proc in self.runners:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        remote = [s for s in (self.remote_rag, self.remote_engine) if s is not None]
        for server in [*self.rags.values(), *self.engines.values(), *remote]:
            server.stop()
        if self.fake is not None:
            self.fake.stop()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def wait_engine_idle(self, alias: str, timeout_s: float = 120.0) -> None:
        """Until the engine of stack `alias` ("A", "B", or `remote`) has no request in flight or
        queued (after a thaw it first finishes what the RAG service sent while frozen)."""
        engine = self.remote_engine if alias == "remote" else self.engines[alias]
        assert engine is not None, "start_remote() first"
        base = engine.health_url.rsplit("/", 1)[0]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                text = httpx.get(f"{base}/metrics", timeout=5).text
            except httpx.HTTPError:
                text = ""
            busy = [ln for ln in text.splitlines() if ln.startswith(
                ("llamacpp:requests_processing", "llamacpp:requests_deferred"))]
            if busy and all(float(ln.split()[-1]) == 0 for ln in busy):
                return
            time.sleep(0.25)
        raise LabError(f"engine {alias} still busy after {timeout_s:.0f} s")

    def asked(self) -> dict[str, int]:
        """Questions each stack has received so far, by stack name: the `ask received`
        lines of its RAG service's log (every instance's: a restart appends), and the
        fake backend's own count per route for `ext-json` (`/ask`) and `ext-sse`
        (`/ask/stream`). Counted at the stack's front door, on receipt, so a request the
        runner gave up on (a timeout) or whose answer it never stored still counts."""
        logs = {LAB_STACKS[a]: self.root / f"rag-{a}.log" for a in self.rags}
        if self.remote_rag is not None:
            logs["remote-b"] = self.root / "rag-remote.log"
        counts = {name: _count_asks(log) for name, log in logs.items()}
        if self.fake is not None:
            counts["ext-json"] = self.fake.asks_by_route.get("/ask", 0)
            counts["ext-sse"] = self.fake.asks_by_route.get("/ask/stream", 0)
        return counts

    def settle_asks(self, aliases: tuple[str, ...] = ("A", "B")) -> None:
        """Until what the runner sent before it stopped has reached the RAG services
        (each logs on receipt) and the engines behind them are idle."""
        time.sleep(0.5)
        for alias in aliases:
            self.wait_engine_idle(alias)

    # --- the runner ---------------------------------------------------------------------
    def run_args(self, db: Path, *, limit: int, timeout_s: float,
                 stacks: str = "stack-a,stack-b", extra: tuple[str, ...] = ()) -> list[str]:
        """`workbench run` arguments for a new demo-en run of `limit` questions."""
        return ["run", "--evalset", "demo-en", "--stacks", stacks, "--limit",
                str(limit), "--timeout", f"{timeout_s:g}", "--warmup", "0", "--no-report",
                "--db", str(db), *extra]

    def spawn_runner(self, args: list[str]) -> subprocess.Popen[bytes]:
        """The real runner CLI in its own process group (so kill -9 hits only it)."""
        proc = subprocess.Popen(
            [sys.executable, "-m", "workbench", *args], env={**os.environ, **self.env},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.runners.append(proc)
        return proc

    def workbench(self, *args: str, timeout_s: float = 600,
                  env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run a workbench CLI command to completion (`env` overrides the lab's)."""
        return subprocess.run([sys.executable, "-m", "workbench", *args],
                              env={**os.environ, **self.env, **(env or {})},
                              capture_output=True, text=True, timeout=timeout_s, check=False)


def _count_asks(log: Path) -> int:
    if not log.exists():
        return 0
    with log.open(encoding="utf-8", errors="replace") as f:
        return sum(1 for line in f if f"workbench.rag.asks: {ASK_RECEIVED}" in line)


def _free_port_on(host: str) -> int:
    """A TCP port free on `host` (a loopback alias) right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_rows(db: Path, at_least: int, proc: subprocess.Popen[bytes],
              timeout_s: float = 300) -> None:
    """Block until `db` holds `at_least` responses; fail if the runner ends first."""
    deadline = time.monotonic() + timeout_s
    while len(rows(db)) < at_least:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise LabError(f"runner exited (code {proc.returncode}) before {at_least} "
                           f"results were stored: {out[-2000:]}")
        if time.monotonic() > deadline:
            raise LabError(f"fewer than {at_least} results stored in {timeout_s:.0f} s")
        time.sleep(0.05)
