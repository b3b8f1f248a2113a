"""Error responses: 422 names the offending field; engine failures are 502/504 `ErrorBody`.

FastAPI's own 422 body (`{"detail": [{"loc", "msg", "type"}]}`) is kept for clients that
parse it, with an `error` object beside it in the shape of every other error body.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from workbench.rag.generation import EngineError
from workbench.records.rag import SPACE_ID_RULE, ErrorBody, ErrorDetail

log = logging.getLogger(__name__)


class FieldError(Exception):
    """A request field is well-formed but unacceptable (e.g. an unknown space_id): 422."""

    def __init__(self, loc: Sequence[str | int], message: str) -> None:
        super().__init__(message)
        self.loc = list(loc)
        self.message = message


def _field_name(loc: Sequence[Any]) -> str:
    return ".".join(str(p) for p in loc) or "(request)"


def unprocessable(errors: list[dict[str, Any]]) -> JSONResponse:
    """422 with FastAPI's `detail` list and an `error` message naming the first field."""
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    message = "; ".join(f"{_field_name(e.get('loc', []))}: {e.get('msg', '')}" for e in errors[:5])
    body = {
        "detail": jsonable_encoder(errors),
        "error": ErrorDetail(type="bad_request", message=message or str(first["msg"])).model_dump(),
    }
    return JSONResponse(status_code=422, content=body)


def error_response(status: int, kind: str, message: str) -> JSONResponse:
    """A non-422 error as `ErrorBody`."""
    body = ErrorBody(error=ErrorDetail(type=kind, message=message))  # type: ignore[arg-type]
    return JSONResponse(status_code=status, content=body.model_dump())


def install_handlers(app: FastAPI) -> None:
    """Register the service's exception handlers on `app`."""

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            _explained({k: v for k, v in e.items() if k != "ctx" or _plain(v)})
            for e in exc.errors()
        ]
        return unprocessable(errors)

    async def on_field(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, FieldError)
        return unprocessable([{"loc": exc.loc, "msg": exc.message, "type": "value_error"}])

    async def on_engine(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, EngineError)
        log.warning("engine failure: %s", exc.message)
        return error_response(exc.status_code, exc.kind, exc.message)

    async def on_other(_: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error", exc_info=exc)
        return error_response(500, "internal", f"{type(exc).__name__}: {exc}")

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 400:
            # FastAPI answers 400 for a body it cannot decode (e.g. not UTF-8); to clients
            # that is malformed input like bad JSON, so the same 422 naming the body.
            return unprocessable(
                [{"loc": ["body"], "msg": f"malformed body: {exc.detail}", "type": "json_invalid"}]
            )
        kind = "not_found" if exc.status_code == 404 else "bad_request"
        response = error_response(exc.status_code, kind, str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(FieldError, on_field)
    app.add_exception_handler(EngineError, on_engine)
    app.add_exception_handler(Exception, on_other)


def _explained(error: dict[str, Any]) -> dict[str, Any]:
    # A regex is no explanation: say what a space id may hold (it names a folder, so `.`,
    # `..` and hidden names are refused rather than let out of the spaces folder).
    loc = error.get("loc") or ()
    if error.get("type") == "string_pattern_mismatch" and loc and loc[-1] == "space_id":
        got = error.get("input")
        return {**error, "msg": f"space_id {got!r} is not allowed: use {SPACE_ID_RULE}"}
    return error


def _plain(value: Any) -> bool:
    # `ctx` may hold the raised exception object, which JSON cannot carry.
    return isinstance(value, dict) and all(
        isinstance(v, str | int | float | bool | None) for v in value.values()
    )
