"""The FastAPI application: ``create_app(settings)`` wires the store, the services and the routers.

Versioned under ``/v1``; OpenAPI at ``/openapi.json``, interactive docs at ``/docs``.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from skillsignal import __version__
from skillsignal.config import Settings, get_settings
from storage import CursorError, StoreError, open_store

from .routers import analytics, competencies, counts, exports, extract, health, postings, skills, taxonomy

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
    # competencies before analytics: its /v1/rankings/competencies answers before /v1/rankings/{facet}
    for module in (health, counts, competencies, analytics, skills, postings, taxonomy, extract, exports):
        app.include_router(module.router)
    try:
        from .routers.dashboard import mount_dashboard
    except ImportError:  # the dashboard is optional
        log.debug("no dashboard router")
    else:
        mount_dashboard(app)
    return app
