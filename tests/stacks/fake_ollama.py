"""A FAKE `ollama` executable for tests: no Ollama binary is obtainable on this machine (it
is not on PyPI, npm or Debian), so the launcher's Ollama logic is tested against this stand-in,
built from Ollama's documented CLI and REST API (github.com/ollama/ollama docs/api.md,
docs/modelfile.md, docs/openai.md). It is never used outside tests.

It mirrors Ollama 0.12.6 (tag v0.12.6, the `VERSION` it reports): the chat stream's order
(role, one token per chunk, the `finish_reason` chunk, then the `usage` chunk and
`[DONE]`) of `openai/openai.go` (`ToChunk`, `ToUsage`) as `middleware/openai.go`
(`ChatMiddleware`) writes it, and `/api/show` as `server/routes.go` (`ShowHandler`,
`GetModelInfo`) answers it, the Modelfile's `FROM` naming the blob by sha256.

Implemented:
- `ollama serve`: HTTP/1.1 server on `OLLAMA_HOST` (host:port, default 127.0.0.1:11434) with
  `GET /` ("Ollama is running"), `GET /api/version`, `GET /api/tags`, `POST /api/create`,
  `POST /api/show` (the created model's Modelfile with `FROM` naming the GGUF's blob
  `.../blobs/sha256-<sha256 of the file>` as Ollama reports it, its `PARAMETER` lines as
  `parameters`, its template; the real CLI uploads the blob first, this one lets the server
  read the file), `GET /api/tags` with each model's `digest`, and the OpenAI-compatible
  `GET /v1/models` and `POST /v1/chat/completions`.
  Chat completions stream as Ollama's OpenAI layer does when `"stream": true`: a
  `text/event-stream` of `data: {chat.completion.chunk}` events (role "assistant", one
  token's text in `delta.content`, `system_fingerprint` "fp_ollama"), a last chunk with
  `finish_reason` ("stop", or "length" at `max_tokens`), a `choices: []` chunk carrying
  `usage` when `stream_options.include_usage` is set, then `data: [DONE]`; without
  `stream` one `chat.completion` object. Unknown models get a 404
  `{"error": {"message": "model \\"x\\" not found, try pulling it first", ...}}`.
- `ollama create NAME -f Modelfile`: reads the Modelfile, checks its `FROM` file exists (as
  the real CLI does), sends it to the server at `OLLAMA_HOST`, prints `success`.
- `ollama --version`.
Every Modelfile it receives is also recorded in `$FAKE_OLLAMA_DIR/<name>.Modelfile` so tests
can assert what the launcher asked for. This is not a model: the answer echoes the words
of the last user message (one word per token, at most `max_tokens`), after a prefill pause
of `FAKE_OLLAMA_PREFILL_S` (default 0.05 s) and `FAKE_OLLAMA_TOKEN_S` (default 0.02 s) per
further token, so a test can check that what streams back and when comes from its request.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib import error, request

VERSION = "0.12.6-fake"
RECORD = Path(os.environ.get("FAKE_OLLAMA_DIR", ".fake-ollama"))
PREFILL_S = float(os.environ.get("FAKE_OLLAMA_PREFILL_S", "0.05"))
TOKEN_S = float(os.environ.get("FAKE_OLLAMA_TOKEN_S", "0.02"))


def _host() -> tuple[str, int]:
    host, _, port = os.environ.get("OLLAMA_HOST", "127.0.0.1:11434").rpartition(":")
    return host or "127.0.0.1", int(port)


def _models() -> dict[str, str]:
    path = RECORD / "models.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _reply_tokens(messages: list[dict[str, object]], max_tokens: int) -> tuple[list[str], str]:
    """The echo "model": the last user message's words as tokens, and the finish reason."""
    last = next((str(m.get("content", "")) for m in reversed(messages)
                 if m.get("role") == "user"), "")
    words = last.split()
    tokens = [w if i == 0 else f" {w}" for i, w in enumerate(words[:max_tokens])]
    return tokens, "length" if len(words) > max_tokens else "stop"


def _as_blob(modelfile: str) -> str:
    """The Modelfile as Ollama keeps it: `FROM` names the GGUF's content-addressed blob."""
    lines = []
    for line in modelfile.splitlines():
        src = Path(line.removeprefix("FROM ").strip())
        if line.startswith("FROM ") and src.is_file():
            digest = hashlib.sha256()
            with src.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            line = f"FROM /root/.ollama/models/blobs/sha256-{digest.hexdigest()}"
        lines.append(line)
    return "\n".join(lines) + "\n"


class Handler(BaseHTTPRequestHandler):
    """The documented endpoints the launcher and the RAG service use."""

    # Ollama (Go net/http) speaks HTTP/1.1 and streams with chunked transfer encoding.
    protocol_version = "HTTP/1.1"

    def _send(self, code: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def do_GET(self) -> None:
        if self.path == "/":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", "17")
            self.end_headers()
            self.wfile.write(b"Ollama is running")
        elif self.path == "/api/version":
            self._send(200, {"version": VERSION})
        elif self.path == "/api/tags":
            models = [{"name": f"{n}:latest", "model": f"{n}:latest", "size": 1,
                       "digest": hashlib.sha256(text.encode()).hexdigest()}
                      for n, text in _models().items()]
            self._send(200, {"models": models})
        elif self.path == "/v1/models":
            data = [{"id": f"{n}:latest", "object": "model", "owned_by": "library"}
                    for n in _models()]
            self._send(200, {"object": "list", "data": data})
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if self.path == "/api/create":
            name = body["model"].removesuffix(":latest")
            models = _models()
            models[name] = _as_blob(str(body.get("modelfile", "")))
            RECORD.mkdir(parents=True, exist_ok=True)
            (RECORD / "models.json").write_text(json.dumps(models))
            self._send(200, {"status": "success"})
        elif self.path == "/api/show":
            self._show(str(body.get("model", body.get("name", ""))))
        elif self.path == "/v1/chat/completions":
            self._chat(body)
        else:
            self._send(404, {"error": "not found"})

    def _show(self, model: str) -> None:
        modelfile = _models().get(model.removesuffix(":latest"))
        if modelfile is None:
            self._send(404, {"error": f"model '{model}' not found"})
            return
        lines = modelfile.splitlines()
        params = [ln.removeprefix("PARAMETER ").strip() for ln in lines
                  if ln.startswith("PARAMETER ")]
        template = modelfile.partition('TEMPLATE """')[2].partition('"""')[0]
        self._send(200, {
            "modelfile": modelfile, "parameters": "\n".join(params), "template": template,
            "details": {"format": "gguf", "family": "llama", "parameter_size": "135M",
                        "quantization_level": "Q4_1"},
            "capabilities": ["completion"],
        })

    def _chat(self, body: dict[str, object]) -> None:
        model = str(body.get("model", ""))
        if model.removesuffix(":latest") not in _models():
            self._send(404, {"error": {
                "message": f'model "{model}" not found, try pulling it first',
                "type": "api_error", "param": None, "code": None}})
            return
        messages = body.get("messages")
        max_tokens = body.get("max_tokens")
        tokens, finish = _reply_tokens(
            messages if isinstance(messages, list) else [],
            max_tokens if isinstance(max_tokens, int) and max_tokens > 0 else 128)
        prompt_tokens = sum(len(str(m.get("content", "")).split())
                            for m in (messages if isinstance(messages, list) else []))
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(tokens),
                 "total_tokens": prompt_tokens + len(tokens)}
        base = {"id": "chatcmpl-fake", "created": int(time.time()), "model": model,
                "system_fingerprint": "fp_ollama"}
        time.sleep(PREFILL_S)
        if not body.get("stream"):
            time.sleep(TOKEN_S * max(len(tokens) - 1, 0))
            self._send(200, {**base, "object": "chat.completion", "usage": usage, "choices": [
                {"index": 0, "finish_reason": finish,
                 "message": {"role": "assistant", "content": "".join(tokens)}}]})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def event(payload: object) -> None:
            self._chunk(f"data: {json.dumps(payload)}\n\n".encode())

        chunk = {**base, "object": "chat.completion.chunk"}
        for i, token in enumerate(tokens):
            if i:
                time.sleep(TOKEN_S)
            event({**chunk, "choices": [{"index": 0, "finish_reason": None,
                                         "delta": {"role": "assistant", "content": token}}]})
        event({**chunk, "choices": [{"index": 0, "finish_reason": finish,
                                     "delta": {"role": "assistant", "content": ""}}]})
        options = body.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage"):
            event({**chunk, "choices": [], "usage": usage})
        self._chunk(b"data: [DONE]\n\n")
        self._chunk(b"")  # the zero-length chunk that ends the response

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"[fake ollama] {format % args}\n")


def create(name: str, modelfile: Path) -> int:
    """`ollama create NAME -f Modelfile`."""
    text = modelfile.read_text()
    src = next((ln.split(None, 1)[1] for ln in text.splitlines() if ln.startswith("FROM ")), "")
    if not Path(src.strip()).is_file():
        print(f"Error: no Modelfile or safetensors files found ({src!r})", file=sys.stderr)
        return 1
    RECORD.mkdir(parents=True, exist_ok=True)
    (RECORD / f"{name}.Modelfile").write_text(text)
    host, port = _host()
    req = request.Request(
        f"http://{host}:{port}/api/create",
        data=json.dumps({"model": name, "modelfile": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        request.urlopen(req, timeout=10).read()
    except (error.URLError, OSError):
        print("Error: could not connect to ollama app, is it running?", file=sys.stderr)
        return 1
    print("success")
    return 0


def main(argv: list[str]) -> int:
    """Dispatch the documented subcommands."""
    if argv[:1] == ["--version"]:
        print(f"ollama version is {VERSION}")
        return 0
    if argv[:1] == ["serve"]:
        server = ThreadingHTTPServer(_host(), Handler)
        print(f"Listening on {_host()[0]}:{_host()[1]} (version {VERSION})", flush=True)
        server.serve_forever()
        return 0
    if len(argv) == 4 and argv[0] == "create" and argv[2] == "-f":
        return create(argv[1], Path(argv[3]))
    print(f"Error: unknown command {argv!r}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
