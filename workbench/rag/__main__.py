"""`python -m workbench.rag --recipe PATH`: serve one stack's RAG API with uvicorn.

PATH is a `Stack` as JSON or YAML (the launcher writes JSON). The service listens on
`stack.host:stack.ports.rag`, talks to `stack.engine_base_url`, and keeps its indexes in
`<state_dir>/stacks/<stack.name>/index/` unless `--data-dir` says otherwise. The index
files themselves are shared by content key in `<state_dir>/indexes/` (one build for every
stack with the same corpus, chunking and embedder) unless `--private-index` is given.
With `WORKBENCH_API_KEY` set, every endpoint but `GET /health` needs
`Authorization: Bearer <key>`; without it the service refuses to bind a non-loopback address.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import yaml
from pydantic import ValidationError

from workbench.rag.auth import API_KEY_ENV, check_bind
from workbench.settings import get_settings
from workbench.stacks.recipe import Stack


def load_stack(path: Path) -> Stack:
    """A `Stack` from a JSON or YAML file; errors name the file and the field."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise SystemExit(f"{path}: invalid stack recipe: {exc}") from None
    try:
        return Stack.model_validate(data)
    except ValidationError as exc:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in exc.errors()
        )
        raise SystemExit(f"{path}: invalid stack recipe: {fields}") from None


def default_data_dir(stack: Stack) -> Path:
    """Where a stack's RAG indexes live by default."""
    return get_settings().state_dir / "stacks" / stack.name / "index"


def default_shared_dir() -> Path:
    """Where the indexes shared by every stack of this state dir live by default."""
    return get_settings().state_dir / "indexes"


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m workbench.rag", description=__doc__)
    parser.add_argument("--recipe", type=Path, required=True, help="Stack recipe (JSON/YAML).")
    parser.add_argument("--data-dir", type=Path, help="Index folder (default: state dir).")
    parser.add_argument("--shared-index-dir", type=Path,
                        help="Folder of indexes shared with other stacks, by content key "
                             "(default: <state_dir>/indexes).")
    parser.add_argument("--private-index", action="store_true",
                        help="Build this service's own indexes; share none with other stacks.")
    parser.add_argument("--host", help="Bind address (default: the stack's host).")
    parser.add_argument("--port", type=int, help="Port (default: the stack's ports.rag).")
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--access-log", action="store_true", help="Log every request.")
    args = parser.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    stack = load_stack(args.recipe)
    host = args.host or stack.host
    # Read here and handed to the app only: never logged, never written to a manifest.
    api_key = os.environ.get(API_KEY_ENV) or None
    try:
        check_bind(host, api_key)
    except ValueError as exc:
        raise SystemExit(f"{args.recipe}: {exc}") from None
    data_dir = args.data_dir or default_data_dir(stack)
    data_dir.mkdir(parents=True, exist_ok=True)

    # why here: uvicorn is the RAG service's only
    import uvicorn

    from workbench.rag.service import create_app

    shared_dir = None if args.private_index else (args.shared_index_dir or default_shared_dir())
    app = create_app(stack, data_dir, warm=True, api_key=api_key, shared_dir=shared_dir)
    uvicorn.run(
        app,
        host=host,
        port=args.port or stack.ports.rag,
        log_level=args.log_level.lower(),
        access_log=args.access_log,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
