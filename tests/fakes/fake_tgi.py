"""A FAKE Hugging Face Text Generation Inference (TGI) server for tests: TGI
(`text-generation-launcher`) is not obtainable on this machine (not on PyPI, npm or Debian,
and it needs a GPU or a long Rust build), so the TGI adapter and `launch: remote` are tested
against this stand-in. Never used outside tests.

It mirrors TGI 3.3.6 (huggingface/text-generation-inference, tag v3.3.6): the routes and the
auth layer of `router/src/server.rs` (`run`: `base_routes` behind the `--api-key` middleware,
`info_routes` outside it), the `Info` struct of `router/src/lib.rs` for `/info` (since 3.0 it
has no `model_dtype` or `model_device_type`: those moved to the backend's info), and the docs
`docs/source/openai_compatible.md` (Messages API), `conceptual/streaming.md` and
`reference/metrics.md`.

Run it: `python tests/fakes/fake_tgi.py --host 127.0.0.3 --port P [--model-id ID]`.

Implemented:
- `GET /health`: 200, empty body, once the "model" is loaded.
- `GET /info`: exactly the fields of 3.3.6's `Info`: `model_id`, `model_sha`,
  `model_pipeline_tag`, `max_concurrent_requests`, `max_best_of`, `max_stop_sequences`,
  `max_input_tokens`, `max_total_tokens`, `validation_workers`, `max_client_batch_size`,
  `router`, `version`, `sha`, `docker_label`.
- `GET /metrics`: a Prometheus exposition of `tgi_request_count`, `tgi_request_success`,
  `tgi_request_input_length`, `tgi_request_generated_tokens`, `tgi_request_duration`
  (histograms with `_sum`/`_count`/`_bucket`), `tgi_queue_size`, `tgi_batch_current_size`.
- `GET /v1/models`: one model, the `model_id`.
- `POST /v1/chat/completions` (the Messages API, OpenAI-compatible): with `"stream": true` a
  `text/event-stream` of `data: {chat.completion.chunk}` events (one token in
  `delta.content`, `system_fingerprint` "<version>-native"), a last chunk with
  `finish_reason` ("stop", or "length" at `max_tokens`), a `choices: []` chunk with `usage`
  when `stream_options.include_usage` is set, then `data: [DONE]`; without it one
  `chat.completion`. TGI's request validation as documented: `top_p` must be > 0.0 and
  < 1.0 (HTTP 422, `{"error": ..., "error_type": "validation"}`); temperature 0 means greedy.
- `POST /generate_stream`: `{"inputs", "parameters": {"max_new_tokens"}}` -> SSE events
  `data: {"index", "token": {"id", "text", "logprob", "special"}, "generated_text",
  "details"}`, `generated_text` and `details` only on the last.
- `--api-key KEY` (TGI's own flag, also `$FAKE_TGI_API_KEY`): the generation routes then
  need `Authorization: Bearer KEY` (401, empty body, otherwise: axum's `StatusCode`); as in
  TGI, `/health`, `/info`, `/metrics` and `/v1/models` (its `info_routes`) never do. Each
  request's path and whether its key matched are appended to `$FAKE_TGI_LOG` (never the
  key itself).

This is not a model: the answer echoes the words of the last user message (one word per
token) after `FAKE_TGI_PREFILL_S` (default 0.05 s) and `FAKE_TGI_TOKEN_S` (0.01 s) per token.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

VERSION = "3.3.6-fake"
PREFILL_S = float(os.environ.get("FAKE_TGI_PREFILL_S", "0.05"))
TOKEN_S = float(os.environ.get("FAKE_TGI_TOKEN_S", "0.01"))
MAX_TOTAL_TOKENS = int(os.environ.get("FAKE_TGI_MAX_TOTAL_TOKENS", "4096"))
#: The routes TGI serves outside its `--api-key` layer (server.rs `info_routes`; `/`,
#: `/ping` and `/chat_tokenize` too, which this fake does not serve).
PUBLIC_ROUTES = frozenset({"/health", "/info", "/metrics", "/v1/models"})


class Counters:
    """What `/metrics` reports, updated by every generation."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.success = 0
        self.input_tokens = 0
        self.generated = 0
        self.duration_s = 0.0


COUNTERS = Counters()


def _tokens(messages: object, limit: int) -> tuple[list[str], str, int]:
    msgs = messages if isinstance(messages, list) else []
    last = next((str(m.get("content", "")) for m in reversed(msgs)
                 if isinstance(m, dict) and m.get("role") == "user"), "")
    words = last.split()
    prompt = sum(len(str(m.get("content", "")).split()) for m in msgs if isinstance(m, dict))
    tokens = [w if i == 0 else f" {w}" for i, w in enumerate(words[:limit])]
    return tokens, "length" if len(words) > limit else "stop", prompt


class Handler(BaseHTTPRequestHandler):
    """TGI's documented routes (see the module docstring)."""

    protocol_version = "HTTP/1.1"  # TGI (axum) streams with chunked transfer encoding
    model_id = "HuggingFaceTB/SmolLM2-135M-Instruct"
    api_key: str | None = None
    log_path: Path | None = None

    # -- plumbing -------------------------------------------------------------------------
    def _send(self, code: int, body: object, ctype: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _start_sse(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _event(self, payload: object) -> None:
        self._chunk(f"data: {json.dumps(payload)}\n\n".encode())

    def _authorized(self) -> bool:
        path = self.path.split("?")[0]
        # TGI compares the whole header with "Bearer <key>", both lowercased.
        sent = self.headers.get("Authorization")
        ok = self.api_key is None or (sent or "").lower() == f"Bearer {self.api_key}".lower()
        if self.log_path is not None:
            with self.log_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"path": path, "key_ok": ok}) + "\n")
        if path in PUBLIC_ROUTES or ok:
            return True
        self._send(401, b"", "text/plain")  # TGI's middleware: Err(StatusCode::UNAUTHORIZED)
        return False

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"[fake tgi] {format % args}\n")

    # -- routes ---------------------------------------------------------------------------
    def do_GET(self) -> None:
        if not self._authorized():
            return
        path = self.path.split("?")[0]
        if path == "/health":
            self._send(200, b"", "text/plain")
        elif path == "/info":
            self._send(200, self.info())
        elif path == "/v1/models":
            self._send(200, {"object": "list", "data": [
                {"id": self.model_id, "object": "model", "created": 0,
                 "owned_by": self.model_id}]})
        elif path == "/metrics":
            self._send(200, self.metrics().encode(), "text/plain; version=0.0.4")
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length) if length else b"{}"
        if not self._authorized():
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send(422, {"error": "Failed to deserialize the JSON body",
                             "error_type": "validation"})
            return
        if self.path == "/v1/chat/completions":
            self.chat(body)
        elif self.path == "/generate_stream":
            self.generate_stream(body)
        else:
            self._send(404, {"error": "not found"})

    def info(self) -> dict[str, object]:
        """`GET /info`: TGI 3.3.6's `Info` (router/src/lib.rs), field for field."""
        return {
            "model_id": self.model_id, "model_sha": "12fd25f77366fa6b3b4b768ec3050bf629380bac",
            "model_pipeline_tag": "text-generation", "max_concurrent_requests": 128,
            "max_best_of": 2, "max_stop_sequences": 4,
            "max_input_tokens": MAX_TOTAL_TOKENS - 1, "max_total_tokens": MAX_TOTAL_TOKENS,
            "validation_workers": 2, "max_client_batch_size": 4, "router": "text-generation-router",
            "version": VERSION, "sha": "0ff6ff60ada291840beed63d8bf458d6f9606f7f",
            "docker_label": "sha-0ff6ff6",
        }

    def metrics(self) -> str:
        """Prometheus text of TGI's documented `tgi_*` families."""
        c = COUNTERS
        with c.lock:
            lines = [
                "# TYPE tgi_request_count counter", f"tgi_request_count {c.requests}",
                "# TYPE tgi_request_success counter", f"tgi_request_success {c.success}",
                "# TYPE tgi_queue_size gauge", "tgi_queue_size 0",
                "# TYPE tgi_batch_current_size gauge", "tgi_batch_current_size 0",
            ]
            for name, total in (("tgi_request_input_length", c.input_tokens),
                                ("tgi_request_generated_tokens", c.generated),
                                ("tgi_request_duration", c.duration_s)):
                lines += [f"# TYPE {name} histogram",
                          f'{name}_bucket{{le="+Inf"}} {c.success}',
                          f"{name}_sum {total}", f"{name}_count {c.success}"]
        return "\n".join(lines) + "\n"

    def chat(self, body: dict[str, object]) -> None:
        """The Messages API."""
        top_p = body.get("top_p")
        if isinstance(top_p, int | float) and not 0.0 < top_p < 1.0:
            self._send(422, {"error": "Input validation error: `top_p` must be > 0.0 and < 1.0",
                             "error_type": "validation"})
            return
        max_tokens = body.get("max_tokens")
        limit = max_tokens if isinstance(max_tokens, int) and max_tokens > 0 else 100
        tokens, finish, prompt = _tokens(body.get("messages"), limit)
        started = time.perf_counter()
        with COUNTERS.lock:
            COUNTERS.requests += 1
        usage = {"prompt_tokens": prompt, "completion_tokens": len(tokens),
                 "total_tokens": prompt + len(tokens)}
        base = {"id": "", "created": int(time.time()), "model": self.model_id,
                "system_fingerprint": f"{VERSION}-native"}
        time.sleep(PREFILL_S)
        if not body.get("stream"):
            time.sleep(TOKEN_S * max(len(tokens) - 1, 0))
            self._send(200, {**base, "object": "chat.completion", "usage": usage, "choices": [
                {"index": 0, "finish_reason": finish, "logprobs": None,
                 "message": {"role": "assistant", "content": "".join(tokens)}}]})
        else:
            self._start_sse()
            chunk = {**base, "object": "chat.completion.chunk"}
            for i, token in enumerate(tokens):
                if i:
                    time.sleep(TOKEN_S)
                self._event({**chunk, "choices": [{"index": 0, "logprobs": None,
                                                   "finish_reason": None, "delta": {
                                                       "role": "assistant", "content": token}}]})
            self._event({**chunk, "choices": [{"index": 0, "logprobs": None,
                                               "finish_reason": finish, "delta": {
                                                   "role": "assistant", "content": ""}}]})
            options = body.get("stream_options")
            if isinstance(options, dict) and options.get("include_usage"):
                self._event({**chunk, "choices": [], "usage": usage})
            self._chunk(b"data: [DONE]\n\n")
            self._chunk(b"")
        self._count(prompt, len(tokens), started)

    def generate_stream(self, body: dict[str, object]) -> None:
        """TGI's native streaming route."""
        params = body.get("parameters")
        params = params if isinstance(params, dict) else {}
        limit = params.get("max_new_tokens")
        limit = limit if isinstance(limit, int) and limit > 0 else 20
        inputs = str(body.get("inputs", ""))
        tokens, finish, prompt = _tokens([{"role": "user", "content": inputs}], limit)
        started = time.perf_counter()
        with COUNTERS.lock:
            COUNTERS.requests += 1
        time.sleep(PREFILL_S)
        self._start_sse()
        for i, token in enumerate(tokens):
            if i:
                time.sleep(TOKEN_S)
            last = i == len(tokens) - 1
            self._event({
                "index": i, "token": {"id": 1000 + i, "text": token, "logprob": -0.1,
                                      "special": False},
                "generated_text": "".join(tokens) if last else None,
                "details": {"finish_reason": "length" if finish == "length" else "eos_token",
                            "generated_tokens": len(tokens), "seed": None} if last else None,
            })
        self._chunk(b"")
        self._count(prompt, len(tokens), started)

    def _count(self, prompt: int, generated: int, started: float) -> None:
        with COUNTERS.lock:
            COUNTERS.success += 1
            COUNTERS.input_tokens += prompt
            COUNTERS.generated += generated
            COUNTERS.duration_s += time.perf_counter() - started


def main(argv: list[str]) -> int:
    """Serve until killed."""
    parser = argparse.ArgumentParser(prog="fake_tgi")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model-id", default=Handler.model_id)
    parser.add_argument("--api-key", default=os.environ.get("FAKE_TGI_API_KEY"))
    args = parser.parse_args(argv)
    Handler.model_id = args.model_id
    Handler.api_key = args.api_key
    log = os.environ.get("FAKE_TGI_LOG")
    Handler.log_path = Path(log) if log else None
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"fake TGI {VERSION} serving {args.model_id} on {args.host}:{args.port}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
