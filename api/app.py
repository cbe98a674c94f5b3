"""The FastAPI application: ``create_app(settings)`` wires the store, the services and the routers.

Versioned under ``/v1``; OpenAPI at ``/openapi.json``, interactive docs at ``/docs`` (served from the
app's own files, see :mod:`api.openapi`).
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from skill_taxonomy import default_taxonomy
from skillsignal import __version__
from skillsignal.config import Settings, get_settings
from storage import CursorError, PostingIndex, SeriesLimitError, StoreError, open_store

from .openapi import SingleValueQuery, install_openapi, mount_docs, path_regex
from .routers import (
    analytics,
    competencies,
    counts,
    exports,
    extract,
    health,
    postings,
    skills,
    taxonomy,
)

log = logging.getLogger(__name__)


def _where(request: Request) -> str:
    return "query" if request.method in ("GET", "HEAD") else "body"


def _problem(loc: list, msg: str, type_: str) -> dict:
    """One item of the 422 ``detail`` (FastAPI's ``ValidationError`` shape); the message starts with
    the parameter it is about."""
    name = ".".join(str(p) for p in loc if p not in ("query", "body", "path", "header")) or "body"
    return {"loc": loc, "msg": msg if msg.startswith(name) else f"{name}: {msg}", "type": type_}


def _unprocessable(problems: list[dict]) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": problems})


def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    """422 in the shape the OpenAPI document gives (``detail``: a list of {loc, msg, type}), each
    message naming its parameter."""
    return _unprocessable([
        _problem([p if isinstance(p, (str, int)) else str(p) for p in err.get("loc", ())],
                 str(err.get("msg", "invalid")), str(err.get("type", "value_error")))
        for err in exc.errors()
    ])


async def _http_error(request: Request, exc: StarletteHTTPException):
    """FastAPI's answer, except that a 405 lists every method the OpenAPI document gives the path
    (GET and POST often live on two routes, and Starlette names only the first route's methods)."""
    if exc.status_code == 405:
        methods = set()
        for template, operations in request.app.openapi().get("paths", {}).items():
            if path_regex(template).fullmatch(request.url.path):
                methods |= {m.upper() for m in operations if m.upper() in _HTTP_METHODS}
        if methods:
            exc = StarletteHTTPException(405, exc.detail, headers={**(exc.headers or {}),
                                                                   "Allow": ", ".join(sorted(methods))})
    return await http_exception_handler(request, exc)


_HTTP_METHODS = {"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"}


def _store_error(_: Request, exc: StoreError) -> JSONResponse:
    return JSONResponse(status_code=400, content={"detail": str(exc)})


def _cursor_error(request: Request, exc: CursorError) -> JSONResponse:
    return _unprocessable([_problem([_where(request), "cursor"], str(exc), "cursor_invalid")])


def _series_limit(request: Request, exc: SeriesLimitError) -> JSONResponse:
    return _unprocessable([_problem([_where(request), "interval"], str(exc), "series_limit")])


def create_app(settings: Settings | None = None, store: PostingIndex | None = None) -> FastAPI:
    """The app over ``store`` (default: the one ``settings`` names, opened here and closed on shutdown;
    a store passed in is left open for its owner)."""
    settings = settings or get_settings()
    owned = store is None

    @asynccontextmanager
    async def lifespan(app: FastAPI):
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
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(StoreError, _store_error)
    app.add_exception_handler(CursorError, _cursor_error)
    app.add_exception_handler(SeriesLimitError, _series_limit)
    # competencies before analytics: its /v1/rankings/competencies answers before /v1/rankings/{facet}
    for module in (health, counts, competencies, analytics, skills, postings, taxonomy, extract, exports):
        app.include_router(module.router)
    try:
        from .routers.dashboard import mount_dashboard
    except ImportError:  # the dashboard is optional
        log.debug("no dashboard router")
    else:
        mount_dashboard(app)
    mount_docs(app)
    install_openapi(app, settings, lambda: default_taxonomy(settings.taxonomy_overlay))
    app.add_middleware(SingleValueQuery, fastapi_app=app)
    return app
