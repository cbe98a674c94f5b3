"""The FastAPI application: ``create_app(settings)`` wires the store, the services and the routers.

Versioned under ``/v1``; OpenAPI at ``/openapi.json``, interactive docs at ``/docs`` (served from the
app's own files, see :mod:`api.openapi`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from signals.forecast import warm_up as warm_up_forecasts
from skill_taxonomy import default_taxonomy
from skillsignal.core import __version__
from skillsignal.core.config import Settings, get_settings
from storage import (
    CursorError,
    PostingIndex,
    SeriesLimitError,
    StoreCorruptError,
    StoreError,
    corrupt_error,
    is_corruption,
    open_store,
)

from .deps import IngestFactory
from .metrics import install_metrics
from .openapi import QueryCheck, install_openapi, mount_docs, path_regex
from .routers import (
    analytics,
    catalogue,
    competencies,
    counts,
    exports,
    extract,
    forecast,
    health,
    indicators,
    postings,
    skills,
    taxonomy,
)
from .routers.dashboard import mount_dashboard

log = logging.getLogger(__name__)

_E = TypeVar("_E", bound=Exception)


def _where(request: Request) -> str:
    return "query" if request.method in ("GET", "HEAD") else "body"


def _expected(exc: Exception, kind: type[_E]) -> _E:
    """``exc`` as the class its handler is registered for (Starlette types every handler's argument
    as ``Exception``, and calls it only with that class or a subclass)."""
    if not isinstance(exc, kind):
        raise TypeError(f"the handler of {kind.__name__} was called with {type(exc).__name__}") from exc
    return exc


def _problem(loc: list[str | int], msg: str, type_: str) -> dict[str, Any]:
    """One item of the 422 ``detail`` (FastAPI's ``ValidationError`` shape); the message starts with
    the parameter it is about."""
    name = ".".join(str(p) for p in loc if p not in ("query", "body", "path", "header")) or "body"
    return {"loc": loc, "msg": msg if msg.startswith(name) else f"{name}: {msg}", "type": type_}


def _unprocessable(problems: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": problems})


def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    """422 in the shape the OpenAPI document gives (``detail``: a list of {loc, msg, type}), each
    message naming its parameter."""
    exc = _expected(exc, RequestValidationError)
    return _unprocessable(
        [
            _problem(
                [p if isinstance(p, (str, int)) else str(p) for p in err.get("loc", ())],
                str(err.get("msg", "invalid")),
                str(err.get("type", "value_error")),
            )
            for err in exc.errors()
        ]
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's answer, except that a 405 lists every method the OpenAPI document gives the path
    (GET and POST often live on two routes, and Starlette names only the first route's methods)."""
    exc = _expected(exc, StarletteHTTPException)
    if exc.status_code == 405:
        methods: set[str] = set()
        for template, operations in request.app.openapi().get("paths", {}).items():
            if path_regex(template).fullmatch(request.url.path):
                methods |= {m.upper() for m in operations if m.upper() in _HTTP_METHODS}
        if methods:
            exc = StarletteHTTPException(
                405, exc.detail, headers={**(exc.headers or {}), "Allow": ", ".join(sorted(methods))}
            )
    return await http_exception_handler(request, exc)


_HTTP_METHODS = {"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"}


def _store_error(_: Request, exc: Exception) -> JSONResponse:
    exc = _expected(exc, StoreError)
    return JSONResponse(status_code=400, content={"detail": str(exc)})


def _cursor_error(request: Request, exc: Exception) -> JSONResponse:
    exc = _expected(exc, CursorError)
    return _unprocessable([_problem([_where(request), "cursor"], str(exc), "cursor_invalid")])


def _series_limit(request: Request, exc: Exception) -> JSONResponse:
    exc = _expected(exc, SeriesLimitError)
    return _unprocessable([_problem([_where(request), "interval"], str(exc), "series_limit")])


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

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: bytes | None = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(send, int(declared))
            return
        seen = 0
        refused = started = False

        async def counted_receive() -> Message:
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

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if not refused:  # after a 413, whatever the app answers is dropped
                started = started or message["type"] == "http.response.start"
                await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not refused:
                raise

    async def _too_large(self, send: Send, size: int | None) -> None:
        what = f"{size:,} bytes" if size is not None else "more bytes"
        body = json.dumps(
            {
                "detail": f"request body of {what} is over the limit of {self.max_bytes:,} bytes "
                "(SKILLSIGNAL_MAX_REQUEST_BYTES)"
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


def create_app(
    settings: Settings | None = None, store: PostingIndex | None = None, ingest_factory: IngestFactory | None = None
) -> FastAPI:
    """The app over ``store`` (default: the one ``settings`` names, opened here and closed on shutdown;
    a store passed in is left open for its owner). ``POST /v1/postings`` hands postings to the sink
    ``ingest_factory`` builds (the application passes its ingest pipeline: ``skillsignal.server``);
    without one it answers 503."""
    settings = settings or get_settings()
    owned = store is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.forecast_warm_up:
            # in the background: start-up does not wait; a forecast asked meanwhile waits on the import as
            # it would have anyway. Daemon: a process that stops at once does not wait for it
            threading.Thread(target=warm_up_forecasts, name="forecast-warm-up", daemon=True).start()
        yield
        if owned:
            app.state.store.close()

    app = FastAPI(
        title="SkillSignal",
        version=__version__,
        summary="Demand for China's digital occupations, levels and skills, read from job postings.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = open_store(settings) if store is None else store
    app.state.extractor = None
    app.state.pipeline = None
    app.state.ingest_factory = ingest_factory
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(StoreError, _store_error)
    app.add_exception_handler(CursorError, _cursor_error)
    app.add_exception_handler(SeriesLimitError, _series_limit)
    app.add_exception_handler(StoreCorruptError, _store_damaged)
    app.add_exception_handler(sqlite3.DatabaseError, _store_damaged)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    # competencies before analytics: its /v1/rankings/competencies answers before /v1/rankings/{facet}
    for module in (health, counts, competencies, analytics, skills, postings, taxonomy, extract, exports, forecast):
        app.include_router(module.router)
    app.include_router(catalogue.router)  # the catalogue (紧缺人才目录)
    app.include_router(indicators.router)  # the indicators behind it, per cell, and the STL series
    mount_dashboard(app)
    mount_docs(app)
    install_openapi(app, settings, lambda: default_taxonomy(settings.taxonomy_overlay))
    install_metrics(app)  # inside QueryCheck: it sees the scope the router fills in
    app.add_middleware(QueryCheck, fastapi_app=app)
    return app
