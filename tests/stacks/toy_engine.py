"""A toy engine in one module: its adapter (`ADAPTER`) and its server (`python -m
tests.stacks.toy_engine --port P --model NAME`), for tests only.

It proves that adding an engine takes one module (issue #25, point 3): named in
`WORKBENCH_ENGINES`, it is a recipe `engine:` like the shipped ones, and the launcher, the
identity probe, the RAG service and the runner reach it through this adapter alone.

The server is a minimal OpenAI-compatible chat API on the standard library (not a fake of
any real engine): `GET /health`, `GET /version`, `GET /v1/models`, `GET /toy/info` (what it
serves, for the identity probe), `POST /v1/chat/completions` (streamed: the last words of
the prompt, one per chunk, then usage). Each chat request's body fields are appended to
`$TOY_ENGINE_LOG`, so a test sees what the adapter's `shape_request` added.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from workbench.stacks.engines.base import (
    EngineAdapter,
    EngineProcess,
    LaunchContext,
    probe_get,
    reported_version,
)
from workbench.stacks.recipe import Stack

VERSION = "0.1-toy"
CONTEXT = 4096
REPO = Path(__file__).resolve().parents[2]
#: What `shape_request` adds to every chat request (the server logs it).
QUIRK = {"toy_quirk": "shaped by the toy adapter"}


class ToyAdapter(EngineAdapter):
    """The toy engine's facts: how to start it, ask it what it serves, shape a request."""

    kind = "toy"
    prefix_caching_default = False
    routes_by_model_name = True
    has_metrics = False
    identity_source = "/toy/info"
    version_paths = ("/version",)

    def engine_process(self, stack: Stack, ctx: LaunchContext) -> EngineProcess:
        """This module as a server on the engine port; requests logged in the run folder."""
        assert stack.model is not None and stack.ports.engine is not None
        argv = [sys.executable, "-m", "tests.stacks.toy_engine", "--host", stack.host,
                "--port", str(stack.ports.engine), "--model", stack.model.name]
        env = {"PYTHONPATH": str(REPO), "TOY_ENGINE_LOG": str(ctx.run_dir / "toy-requests.jsonl")}
        return EngineProcess(argv=argv, env=env, health_timeout_s=30.0)

    def version(self, stack: Stack) -> str | None:
        """`GET /version`."""
        return reported_version(stack, "/version", "toy")

    def shape_request(self, params: dict[str, Any],
                      prefix_caching: bool | None) -> dict[str, Any]:
        """Every request carries QUIRK in its body."""
        return {**params, "extra_body": {**params.get("extra_body", {}), **QUIRK}}

    def probe_identity(self, client: httpx.Client, root: str, model: str,
                       out: dict[str, Any]) -> None:
        """`GET /toy/info`: its version, context and weights."""
        code, info = probe_get(client, f"{root}/toy/info")
        if code != 200 or not isinstance(info, dict):
            out["notes"].append(f"/toy/info: HTTP {code}")
            return
        out["version"] = f"toy {info['version']}"
        out["context"] = info["context"]
        out["details"] = {"weights": info["weights"]}


ADAPTER = ToyAdapter()


class _Handler(BaseHTTPRequestHandler):
    model = "toy"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the test reads the log
        return None

    def _json(self, body: object, code: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        routes: dict[str, object] = {
            "/health": {},
            "/version": {"version": VERSION},
            "/v1/models": {"object": "list", "data": [
                {"id": self.model, "object": "model", "max_model_len": CONTEXT}]},
            "/toy/info": {"version": VERSION, "context": CONTEXT, "weights": "toy-words"},
        }
        if self.path in routes:
            self._json(routes[self.path])
        else:
            self._json({"error": "not found"}, 404)

    def do_POST(self) -> None:
        if self.path != "/v1/chat/completions":
            self._json({"error": "not found"}, 404)
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        log = os.environ.get("TOY_ENGINE_LOG")
        if log:
            with open(log, "a", encoding="utf-8") as f:
                f.write(json.dumps({"model": body.get("model"),
                                    "toy_quirk": body.get("toy_quirk")}) + "\n")
        prompt = str(body["messages"][-1]["content"])
        words = prompt.split()[-int(body.get("max_tokens") or 8):][:8]
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        base = {"id": "toy-1", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": self.model}
        for i, word in enumerate(words):
            delta = {"role": "assistant", "content": word if i == 0 else " " + word}
            self._event({**base, "choices": [{"index": 0, "delta": delta,
                                              "finish_reason": None}]})
        self._event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {"prompt_tokens": len(prompt.split()), "completion_tokens": len(words),
                     "total_tokens": len(prompt.split()) + len(words)}
            self._event({**base, "choices": [], "usage": usage})
        self.wfile.write(b"data: [DONE]\n\n")

    def _event(self, chunk: dict[str, Any]) -> None:
        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.flush()


def main() -> None:
    """Serve until killed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", default="toy")
    args = parser.parse_args()
    _Handler.model = args.model
    ThreadingHTTPServer((args.host, args.port), _Handler).serve_forever()


if __name__ == "__main__":
    main()
