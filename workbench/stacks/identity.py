"""What a remote engine really serves, asked through each engine's own API.

A `launch: remote` recipe names a model, but the server at `engine_url` serves whatever it
was started with. These probes ask it (with the recipe's API key, sent as Bearer and never
recorded) and return a plain dict for the run manifest:

- every engine: `GET /v1/models` (the ids it serves; vLLM adds `max_model_len`);
- then the engine's own API, asked by its adapter (`EngineAdapter.probe_identity`):
  Ollama `POST /api/show` (its Modelfile names the GGUF blob by sha256, its parameters
  hold `num_ctx`) and `GET /api/tags`; vLLM `GET /version`; llama.cpp `GET /props`
  (model path, per-slot `n_ctx`, build); TGI `GET /info` (model_id, model_sha,
  max_input_tokens, version);
- `GET /metrics` where the engine has one: a snapshot of its own families.

Only Ollama proves the weights (the blob digest is the GGUF's sha256); the others name
them, and the manifest says so. Traffic goes only where the recipe allows: a non-loopback
`engine_url` needs `allow_remote: true` (see `check_remote_allowed`).
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from workbench.stacks.engines.base import engine_root, probe_get
from workbench.stacks.engines.registry import find_adapter, get_adapter, metric_prefixes
from workbench.stacks.kinds import stack_kind
from workbench.stacks.process import LaunchError
from workbench.stacks.recipe import Stack
from workbench.stacks.registry import model_for_digest
from workbench.targets import RemoteTargetError, check_routes, is_remote, route

#: Seconds each probe may take: a remote server on a slow link still answers these at once.
PROBE_TIMEOUT_S = 5.0
#: At most this many samples in a snapshot (the manifest is read by people).
MAX_METRIC_SAMPLES = 200
# `name{labels} value [timestamp]` (the Prometheus text format); labels may hold spaces.
_SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{.*\})?\s+(\S+)")
_CACHE_S = 30.0
_cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}


def engine_is_elsewhere(stack: Stack) -> bool:
    """Whether the stack's engine runs elsewhere (launch remote or none; a hosted API)."""
    if not stack_kind(stack).has_engine:
        return False
    return stack.launch in ("remote", "none") or stack.hosted_engine


def safe_url(url: str) -> str:
    """A URL fit to print or store: any `user:password@` part removed."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def remote_refusal(stack: Stack) -> str | None:
    """Why the launcher may not send the stack's engine traffic, or None when it may.

    The runner's and the load bench's rule (`workbench.targets`): only 127.0.0.1 is this
    machine; any other host (127.0.0.2 and 127.0.0.3 included: tests stand remote hosts in
    with them) needs `allow_remote: true`, and must be in WORKBENCH_REMOTE_HOSTS when set.
    """
    root = engine_root(stack)
    if root is None or not engine_is_elsewhere(stack):
        return None
    allowed = {stack.name} if stack.allow_remote else set()
    try:
        check_routes([route(stack.name, "engine", safe_url(root))], allowed,
                     flag="`allow_remote: true` in the recipe")
    except RemoteTargetError as exc:
        return str(exc)
    return None


def check_remote_allowed(stack: Stack, *, quiet: bool = False) -> None:
    """Raise LaunchError (naming the recipe and engine_url) when the engine runs on another
    host the recipe does not allow; otherwise print (to stderr) where its traffic goes."""
    refused = remote_refusal(stack)
    if refused is not None:
        raise LaunchError(f"{stack.source_path or stack.name}: field engine_url: {refused}")
    root = engine_root(stack)
    if root is not None and engine_is_elsewhere(stack) and not quiet:
        kind = "REMOTE, allowed by allow_remote" if is_remote(root) else "this machine"
        print(f"stack {stack.name!r}: engine traffic (health, identity probes, every "
              f"question) goes to {safe_url(root)} ({kind})", file=sys.stderr)


def auth_headers(stack: Stack) -> dict[str, str]:
    """`Authorization: Bearer <key>` from the variable `api_key_env` names (else none)."""
    key = os.environ.get(stack.api_key_env) if stack.api_key_env else None
    return {"Authorization": f"Bearer {key}"} if key else {}


_get = probe_get


def check_reachable(stack: Stack, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Raise LaunchError, naming the URL, unless the remote engine answers its health
    check (or, for a hosted OpenAI API without one, `/v1/models` with the key)."""
    root = engine_root(stack)
    assert root is not None
    path = get_adapter(stack.engine).health_path(stack) or "/v1/models"
    url = root + path
    with httpx.Client(timeout=timeout_s, headers=auth_headers(stack)) as client:
        code, body = _get(client, url)
    if code != 200:
        said = f"HTTP {code}" if code is not None else str(body)
        raise LaunchError(
            f"remote engine of stack {stack.name!r} ({stack.engine}) does not answer at "
            f"{safe_url(url)}: {said}"
        )


def parse_metrics(text: str) -> dict[str, float]:
    """The engines' own samples (the families of every engine adapter's `metric_prefixes`),
    by the names the server wrote (labelled series of one name summed; histogram buckets
    dropped), at most MAX_METRIC_SAMPLES of them."""
    prefixes = metric_prefixes()
    values: dict[str, float] = {}
    for line in text.splitlines():
        found = _SAMPLE.match(line)
        if found is None:
            continue  # comments (# HELP, # TYPE), blank lines
        name, raw = found.group(1), found.group(2)
        if not name.startswith(prefixes) or name.endswith("_bucket"):
            continue
        try:
            value = float(raw)
        except ValueError:
            continue
        if math.isfinite(value) and (name in values or len(values) < MAX_METRIC_SAMPLES):
            values[name] = values.get(name, 0.0) + value
    return values


def served_identity(stack: Stack, timeout_s: float = PROBE_TIMEOUT_S,
                    fresh: bool = False) -> dict[str, Any]:
    """What the engine at the stack's URL serves (see the module docstring); never raises.

    A non-loopback URL without `allow_remote` is not asked: the entry says so. Answers are
    kept for a few seconds (the manifest's model entry and engine version ask again).
    """
    root = engine_root(stack)
    want = stack.model.name if stack.model else None
    out: dict[str, Any] = {"engine": stack.engine, "url": safe_url(root or ""),
                           "model_named": want, "notes": []}
    if root is None:
        out["notes"].append("no engine URL")
        return out
    refused = remote_refusal(stack)
    if refused is not None:
        out["reachable"] = None
        out["notes"].append(f"not asked: {refused}")
        return out
    # Either name serves: the one the engine was told (--served-model-name, an Ollama
    # tag) or the checkpoint it loaded (TGI and vLLM list the Hugging Face id).
    names = {n for n in (want, stack.model.hf_id if stack.model else None) if n}
    key = (root, want or "")
    hit = _cache.get(key)
    if hit is not None and not fresh and time.monotonic() - hit[0] < _CACHE_S:
        return hit[1]
    with httpx.Client(timeout=timeout_s, headers=auth_headers(stack)) as client:
        code, models = _get(client, f"{root}/v1/models")
        out["reachable"] = code is not None
        entries = models.get("data", []) if code == 200 and isinstance(models, dict) else []
        ids = [str(m.get("id")) for m in entries if isinstance(m, dict)]
        out["models"] = ids
        if code != 200:
            out["notes"].append(f"/v1/models: {f'HTTP {code}' if code else models}")
        match = next((m for m in entries if isinstance(m, dict)
                      and str(m.get("id", "")).removesuffix(":latest") in names), None)
        out["served_model"] = str(match["id"]) if match else (ids[0] if len(ids) == 1 else None)
        out["model_listed"] = match is not None
        out["served_entry"] = {k: match.get(k) for k in ("max_model_len", "root", "owned_by")
                               if k in match} if match else {}
        adapter = find_adapter(stack.engine)
        if code is not None and adapter is not None:
            adapter.probe_identity(client, root, want or "", out)
            if adapter.has_metrics:
                mcode, text = _get(client, f"{root}/metrics")
                if mcode == 200 and isinstance(text, str):
                    out["metrics"] = parse_metrics(text)
                else:
                    out["metrics"] = None
                    out["notes"].append(f"/metrics: {f'HTTP {mcode}' if mcode else text}")
    out.pop("served_entry", None)  # folded into context and details by the probes
    context = out.get("context")
    window = stack.generation.context_window
    if isinstance(context, int) and context < window:
        out["notes"].append(f"serves a context of {context} tokens, below the recipe's "
                            f"context_window {window}: long prompts are cut")
    out["proven"] = bool(out.get("gguf_sha256"))
    _cache[key] = (time.monotonic(), out)
    return out


def check_remote_engine(stack: Stack, folder: Path) -> None:
    """An engine that runs elsewhere: it answers its health check, and what it serves is
    recorded in `identity.json` (the run manifest asks again). A model the server does
    not list is an error where the engine routes by model name (vLLM, Ollama, a hosted
    API); llama.cpp and TGI serve one model whatever the request names."""
    check_reachable(stack)
    served = served_identity(stack, fresh=True)
    (folder / "identity.json").write_text(json.dumps(served, indent=2), encoding="utf-8")
    models = served.get("models") or []
    if stack.model is not None and models and not served.get("model_listed"):
        msg = (f"the {stack.engine} server at {served['url']} does not serve "
               f"{stack.model.name!r} (model.name of stack {stack.name!r}); it lists: "
               f"{', '.join(models)}")
        if get_adapter(stack.engine).routes_by_model_name:
            raise LaunchError(msg)
        print(f"warning: {msg}", file=sys.stderr)
    for note in served.get("notes") or []:
        print(f"note: stack {stack.name!r}: {note}", file=sys.stderr)


def served_version(stack: Stack) -> str | None:
    """The version the engine reports through its own API, or None."""
    version = served_identity(stack).get("version")
    return str(version) if version else None


def remote_model_entry(stack: Stack, served: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manifest's `models` entry of a stack whose engine runs elsewhere: the sha256
    when the server proves it (Ollama's blob digest), else the name it serves and why
    that is all that is known."""
    served = served if served is not None else served_identity(stack)
    sha = served.get("gguf_sha256")
    where = f"the {stack.engine} server at {served.get('url')}"
    if sha:
        known = model_for_digest(str(sha))
        return {"registry": known.name if known else None, "file": f"sha256-{sha}",
                "sha256": sha, "note": f"digest reported by {where} (/api/show)"}
    name = served.get("served_model") or (stack.model.name if stack.model else None)
    details = served.get("details") or {}
    file = details.get("model_path") or details.get("root") or details.get("model_id") or name
    adapter = find_adapter(stack.engine)
    how = adapter.identity_source if adapter is not None else "its API"
    if served.get("reachable") is None:
        why = "; ".join(served.get("notes") or []) or "not asked"
        note = f"{where} was not asked ({why})"
    elif not served.get("reachable"):
        note = f"{where} did not answer"
    else:
        note = f"{where} names the model {name!r} ({how}) but reports no weights digest"
    return {"registry": None, "file": file, "sha256": None,
            "note": f"remote engine: known by name only; {note}"}
