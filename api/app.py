"""The FastAPI application: ``create_app(settings)`` wires the store, the services and the routers.

Versioned under ``/v1``; OpenAPI at ``/openapi.json``, interactive docs at ``/docs``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from skillsignal import __version__
from skillsignal.config import Settings, get_settings
from storage import CursorError, StoreCorruptError, StoreError, is_corruption, open_store
from storage.sqlite import corrupt_error

from .routers import analytics, counts, exports, extract, health, postings, skills, taxonomy

log = logging.getLogger(__name__)


def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    """422 whose message names each bad parameter."""
    problems = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ()) if part not in ("query", "body", "path", "header")]
        problems.append({"parameter": ".".join(loc) or "body", "message": err.get("msg", "invalid")})
    summary = "; ".join(f"{p['parameter']}: {p['message']}" for p in problems)
    return JSONResponse(status_code=422, content={"detail": summary, "errors": problems})


def _store_error(_: Request, exc: StoreError) -> JSONResponse:
    return JSONResponse(status_code=400, content={"detail": str(exc)})


def _cursor_error(_: Request, exc: CursorError) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": f"cursor: {exc}",
                                                  "errors": [{"parameter": "cursor", "message": str(exc)}]})


def _store_damaged(request: Request, exc: Exception) -> JSONResponse:
    """503 naming the damage and what to do, instead of a 500; /health reports it at once."""
    if isinstance(exc, sqlite3.DatabaseError):
        if not is_corruption(exc):
            raise exc  # not damage: the usual 500
        exc = corrupt_error(getattr(request.app.state.store, "path", "the store"), exc)
    request.app.state.integrity = (time.monotonic(), str(exc))
    log.error("%s", exc)
    return JSONResponse(status_code=503, content={"detail": str(exc)})


class BodyLimit:
    """Answers 413 to a request whose body is larger than ``max_bytes`` (by its Content-Length,
    or counted as it arrives), before any route reads it."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._too_large(send, int(declared))
        seen = 0
        refused = started = False

        async def counted_receive():
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:  # answer now; the app sees the client gone
                    refused = True
                    if not started:
                        await self._too_large(send, None)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            nonlocal started
            if not refused:  # after a 413, whatever the app answers is dropped
                started = started or message["type"] == "http.response.start"
                await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not refused:
                raise

    async def _too_large(self, send, size: int | None) -> None:
        what = f"{size:,} bytes" if size is not None else "more bytes"
        body = json.dumps({"detail": f"request body of {what} is over the limit of {self.max_bytes:,} bytes "
                                     "(SKILLSIGNAL_MAX_REQUEST_BYTES)"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        app.state.store.close()

    app = FastAPI(
        title="SkillSignal",
        version=__version__,
        summary="Demand for China's digital occupations, levels and skills, read from job postings.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = open_store(settings)
    app.state.extractor = None
    app.state.pipeline = None
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StoreError, _store_error)
    app.add_exception_handler(CursorError, _cursor_error)
    app.add_exception_handler(StoreCorruptError, _store_damaged)
    app.add_exception_handler(sqlite3.DatabaseError, _store_damaged)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    for module in (health, counts, analytics, skills, postings, taxonomy, extract, exports):
        app.include_router(module.router)
    try:
        from .routers.dashboard import mount_dashboard
    except ImportError:  # the dashboard is optional
        log.debug("no dashboard router")
    else:
        mount_dashboard(app)
    return app
