"""``GET /health``: liveness, store size, taxonomy version, and whether the store is intact.

The store's integrity is SQLite's ``PRAGMA quick_check`` (it reads every page: milliseconds for
a small store, about a second per GB), run at most once per ``INTEGRITY_TTL_S`` seconds and
cached; an API request that meets a damaged page marks the store damaged at once. A damaged
store answers ``status: degraded`` with the reason, and HTTP 503, so a load balancer or a
monitor sees it.
"""

from __future__ import annotations

import threading
import time

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import State

from skill_taxonomy import default_taxonomy
from skillsignal.core import __version__
from skillsignal.core.config import Settings
from storage import PostingIndex, StoreError

from ..deps import Index, get_settings
from ..schemas import Health

router = APIRouter(tags=["health"])

#: Seconds a quick_check result is reused.
INTEGRITY_TTL_S = 30.0
_check_lock = threading.Lock()


def _fresh_check(state: State) -> tuple[float, str | None] | None:
    """The last integrity result, (when, the problem found), unless older than ``INTEGRITY_TTL_S``; it is
    set by :func:`store_problem` and by :mod:`api.app` when a request meets damage."""
    cached: tuple[float, str | None] | None = getattr(state, "integrity", None)
    return cached if cached is not None and time.monotonic() - cached[0] < INTEGRITY_TTL_S else None


def store_problem(request: Request, store: PostingIndex) -> str | None:
    """What is wrong with the store (None: intact), from a cached ``quick_check`` (a search backend
    answers None: its server reports its own health)."""
    state = request.app.state
    cached = _fresh_check(state)
    if cached is not None:
        return cached[1]
    with _check_lock:  # one check at a time; the others wait for its answer
        cached = _fresh_check(state)
        if cached is not None:
            return cached[1]
        found = store.check_integrity()
        problem = (
            None
            if found is None
            else (f"{store.path or 'the store'} is damaged (quick_check: {found}); restore it from a backup")
        )
        state.integrity = (time.monotonic(), problem)
        return problem


@router.get(
    "/health",
    response_model=Health,
    summary="Liveness, store size, taxonomy version and store integrity",
    responses={503: {"model": Health, "description": "The store is damaged (status degraded, with the reason)."}},
)
def health(
    request: Request,
    response: Response,
    store: Index,
    settings: Settings = Depends(get_settings),
) -> Health:
    problem = store_problem(request, store)
    postings = 0
    if problem is None:
        try:
            postings = store.count_postings()
        except StoreError as exc:
            problem = str(exc)
    if problem is not None:
        response.status_code = 503
    return Health(
        status="degraded" if problem else "ok",
        problem=problem,
        version=__version__,
        backend=settings.backend,
        postings=postings,
        taxonomy_version=default_taxonomy(settings.taxonomy_overlay).version,
    )
