"""Extract skills, occupation and level from one posting without storing it."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.exceptions import RequestValidationError

from nlp.extractor import ExtractionError, Extractor
from skillsignal.core.models import Extraction

from ..deps import get_extractor
from ..schemas import BODY_ERRORS, ExtractRequest

router = APIRouter(prefix="/v1", tags=["extract"])


@router.post(
    "/extract",
    response_model=Extraction,
    summary="Extract facts from a posting (nothing is stored)",
    description="Needs only a title and/or a description; every other posting field is optional "
    "(id and source are generated when absent).",
    responses=BODY_ERRORS,
)
def extract(posting: ExtractRequest, extractor: Extractor = Depends(get_extractor)) -> Extraction:
    try:
        return extractor.extract(posting)
    except ExtractionError as exc:
        raise RequestValidationError(
            [{"loc": ("body",), "msg": f"posting: {exc}", "type": "extraction_error"}]
        ) from exc
