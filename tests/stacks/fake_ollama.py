"""A FAKE `ollama` executable for tests: no Ollama binary is obtainable on this machine (it
is not on PyPI, npm or Debian), so the launcher's Ollama logic is tested against this stand-in,
built from Ollama's documented CLI and REST API (github.com/ollama/ollama docs/api.md,
docs/modelfile.md, docs/openai.md). It is never used outside tests.

Implemented:
- `ollama serve`: HTTP server on `OLLAMA_HOST` (host:port, default 127.0.0.1:11434) with
  `GET /` ("Ollama is running"), `GET /api/version`, `GET /api/tags`, `POST /api/create`,
  and the OpenAI-compatible `GET /v1/models` and `POST /v1/chat/completions` (non-streaming).
  Unknown models get a 404 `{"error": "model \\"x\\" not found, try pulling it first"}`.
- `ollama create NAME -f Modelfile`: reads the Modelfile, checks its `FROM` file exists (as
  the real CLI does), sends it to the server at `OLLAMA_HOST`, prints `success`.
- `ollama --version`.
Every Modelfile it receives is also recorded in `$FAKE_OLLAMA_DIR/<name>.Modelfile` so tests
can assert what the launcher asked for. The answer text is canned: this is not a model.
"""

from __future__ import annotations

import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib import error, request

VERSION = "0.12.6-fake"
RECORD = Path(os.environ.get("FAKE_OLLAMA_DIR", ".fake-ollama"))


def _host() -> tuple[str, int]:
    host, _, port = os.environ.get("OLLAMA_HOST", "127.0.0.1:11434").rpartition(":")
    return host or "127.0.0.1", int(port)


def _models() -> dict[str, str]:
    path = RECORD / "models.json"
    return json.loads(path.read_text()) if path.is_file() else {}


class Handler(BaseHTTPRequestHandler):
    """The documented endpoints the launcher and the RAG service use."""

    def _send(self, code: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"Ollama is running")
        elif self.path == "/api/version":
            self._send(200, {"version": VERSION})
        elif self.path == "/api/tags":
            models = [{"name": f"{n}:latest", "model": f"{n}:latest", "size": 1}
                      for n in _models()]
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
            models[name] = body.get("modelfile", "")
            RECORD.mkdir(parents=True, exist_ok=True)
            (RECORD / "models.json").write_text(json.dumps(models))
            self._send(200, {"status": "success"})
        elif self.path == "/v1/chat/completions":
            name = str(body.get("model", "")).removesuffix(":latest")
            if name not in _models():
                self._send(404, {"error": f'model "{name}" not found, try pulling it first'})
                return
            text = "Paris is the capital of France. (fake ollama)"
            self._send(200, {
                "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 9, "total_tokens": 19},
            })
        else:
            self._send(404, {"error": "not found"})

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
