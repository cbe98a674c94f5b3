"""The urgently-needed-talent catalogue (紧缺人才目录) of a period: every occupation × level rated.

JSON (the :class:`signals.models.Catalogue`), or the same catalogue as a file to download
(``format=xlsx|html|md``, what ``skillsignal catalogue -o`` writes).
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from signals.catalogue import REGION_NAMES, CatalogueError, build_catalogue
from signals.catalogue_files import MEDIA_TYPES, render
from signals.models import Catalogue
from signals.periods import PeriodError
from skill_taxonomy import Taxonomy

from ..deps import Index, get_taxonomy
from ..schemas import STORE_ERROR, Responses

router = APIRouter(prefix="/v1", tags=["signals"], responses=STORE_ERROR)

#: a month (2026-07), a quarter (2026Q3) or a year (2026), 1900–2099 (signals.periods reads any
#: four-digit year, and the years next to 0001 and 9999 have no neighbours to compare with)
PERIOD_PATTERN = r"^(19|20)\d\d(-(0?[1-9]|1[0-2])|[Qq][1-4])?$"
REGION_PATTERN = "^(" + "|".join(REGION_NAMES) + ")$"
FILES: Responses = {
    200: {
        "description": "The catalogue: JSON, or a file (format=xlsx, html or md).",
        "content": {
            MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
            "text/html": {"schema": {"type": "string"}},
            "text/markdown": {"schema": {"type": "string"}},
        },
    }
}
CATALOGUE_HELP = (
    "Every occupation × level of the taxonomy for the period, rated critical / elevated / normal against "
    "its own history and its peers (suppressed below min_sample unique postings), tightest first, with "
    "the indicators behind each rating, the published thresholds, top skills, competencies and related "
    "majors. From postings alone the figure is demand tightness (需求紧张度), never a shortage."
)


@router.get(
    "/catalogue",
    response_model=Catalogue,
    summary="The urgently-needed-talent catalogue (紧缺人才目录) of a period",
    description=CATALOGUE_HELP,
    responses=FILES,
)
def catalogue(
    store: Index,
    period: str = Query(
        pattern=PERIOD_PATTERN, description="2026-07 (a month), 2026Q3 (a quarter) or 2026 (a year); years 1900–2099."
    ),
    region: str | None = Query(
        None, pattern=REGION_PATTERN, description="东部, 中部, 西部, 东北 (or east, central, west, northeast)."
    ),
    province: str | None = Query(None, min_length=1, max_length=20, description="A province's short name: 广东."),
    min_sample: int = Query(30, ge=1, le=1_000_000, description="Fewest unique postings a rated cell needs."),
    format: Literal["json", "xlsx", "html", "md"] = Query("json", description="json, or a file: xlsx, html, md."),
    taxonomy: Taxonomy = Depends(get_taxonomy),
) -> Catalogue | Response:
    try:
        found = build_catalogue(store, taxonomy, period, region=region, province=province, min_sample=min_sample)
    except (PeriodError, CatalogueError) as exc:  # what the patterns let through
        name = "period" if isinstance(exc, PeriodError) else "region"
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "type": "value_error",
                    "input": {"period": period, "region": region}[name],
                    "msg": f"{name}: {exc}",
                }
            ]
        ) from exc
    if format == "json":
        return found
    name = "-".join(p for p in ("catalogue", found.period, found.region, found.province) if p)
    return Response(
        render(found, format),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}.{format}"},
    )
