"""Extract skills, occupation and level from one posting without storing it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException

from skillsignal.models import Extraction, Posting

from ..deps import get_extractor

router = APIRouter(prefix="/v1", tags=["extract"])


@router.post("/extract", response_model=Extraction, summary="Extract facts from a posting (nothing is stored)")
def extract(posting: Posting, extractor=Depends(get_extractor)) -> Extraction:
    try:
        return extractor.extract(posting)
    except Exception as exc:  # the extractor's own error type, whatever it is
        if type(exc).__name__ == "ExtractionError":
            raise HTTPException(status_code=422, detail=f"posting: {exc}") from exc
        raise
