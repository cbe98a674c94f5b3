"""Services the routers receive through FastAPI dependency injection (all built once per app)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader

from nlp.extractor import Extractor
from skill_taxonomy import Taxonomy, default_taxonomy
from skillsignal.core.config import Settings
from skillsignal.core.ingest import PostingSink
from storage import PostingIndex

from .services.names import Namer
from .services.skill_search import SkillSearch

#: builds the sink ``POST /v1/postings`` hands postings to, from the app's settings, store and
#: extractor (None until an extraction ran); the application passes it to ``create_app``.
IngestFactory = Callable[[Settings, PostingIndex, Extractor | None], PostingSink]

_lock = threading.Lock()


_T = TypeVar("_T")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings  # set by create_app; Starlette's State is untyped
    return settings


def get_index(request: Request) -> PostingIndex:
    """The app's store (whichever backend ``storage.open_store`` opened)."""
    index: PostingIndex = request.app.state.store
    return index


#: a route parameter receiving the app's store
Index = Annotated[PostingIndex, Depends(get_index)]


def get_taxonomy(settings: Settings = Depends(get_settings)) -> Taxonomy:
    return default_taxonomy(settings.taxonomy_overlay)


def get_namer(taxonomy: Taxonomy = Depends(get_taxonomy)) -> Namer:
    return Namer.for_taxonomy(taxonomy)


def get_skill_search(taxonomy: Taxonomy = Depends(get_taxonomy)) -> SkillSearch:
    return SkillSearch.for_taxonomy(taxonomy)


def _once(request: Request, name: str, build: Callable[[], _T]) -> _T:
    """``app.state.<name>``, built by ``build`` on first use (once, under a lock)."""
    state = request.app.state
    # Starlette's State is untyped: the attribute is None (create_app) or what ``build`` made
    value: _T | None = getattr(state, name, None)
    if value is None:
        with _lock:
            value = getattr(state, name, None)
            if value is None:
                value = build()
                setattr(state, name, value)
    return value


def get_extractor(request: Request) -> Extractor:
    """The extractor, created on first use and kept for the app's life."""

    def build() -> Extractor:
        return Extractor.from_settings(request.app.state.settings)

    return _once(request, "extractor", build)


def get_pipeline(request: Request) -> PostingSink:
    """The ingest sink over the app's store (sharing the app's extractor), built once by the
    factory the application wired in; 503 when the app was created without one."""
    state = request.app.state
    factory: IngestFactory | None = state.ingest_factory
    if factory is None:
        raise HTTPException(
            status_code=503,
            detail="this server has no ingest pipeline wired in (it was created by "
            "api.app.create_app without ingest_factory); run `skillsignal serve` to accept postings",
        )
    return _once(request, "pipeline", lambda: factory(state.settings, state.store, state.extractor))


#: the write key, declared as the API's security scheme (Swagger UI's "Authorize" asks for it)
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="The write key (Settings.api_key).")


def require_api_key(
    x_api_key: str | None = Depends(api_key_header),
    settings: Settings = Depends(get_settings),
) -> None:
    """401 unless ``X-API-Key`` carries the configured key."""
    if not x_api_key or not secrets.compare_digest(x_api_key.encode(), settings.api_key.encode()):
        raise HTTPException(
            status_code=401,
            detail="X-API-Key header missing or wrong; writes need the API key",
            headers={"WWW-Authenticate": "X-API-Key"},
        )
