from __future__ import annotations

from fastapi import APIRouter, Depends

from skill_taxonomy import default_taxonomy
from skillsignal import __version__
from skillsignal.config import Settings
from storage import SQLiteStore

from ..deps import get_settings, get_store
from ..schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Liveness, store size and taxonomy version")
def health(store: SQLiteStore = Depends(get_store), settings: Settings = Depends(get_settings)) -> Health:
    return Health(
        status="ok",
        version=__version__,
        backend=settings.backend,
        postings=store.count_postings(),
        taxonomy_version=default_taxonomy(settings.taxonomy_overlay).version,
    )
