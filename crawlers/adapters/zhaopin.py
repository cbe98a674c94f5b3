"""智联招聘 (Zhaopin) position JSON: a search page (``data.results`` / ``data.list``) or one position.

Fields read: number / jobId, jobName, positionURL, salary, workingExp {name}, eduLevel {name},
company {name, size {name}, type {name}}, city {display | items[0].name} or workCity, welfare,
skillLabel / jobSkillTags, industryName, jobSummary / jobDescription, createDate / updateDate /
publishTime. Values may be plain strings or ``{"name": ...}`` objects; both are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import (
    BoardBlocked,
    BoardFormatError,
    Record,
    html_text,
    load_json,
    posted_or_none,
    split_city,
    tag_list,
    text,
)

SOURCE = "zhaopin"


def parse_positions(payload: str | bytes | Mapping[str, Any]) -> tuple[list[Record], int | None]:
    """(records, total count or None) of a search response, or of one position object."""
    data = load_json(payload)
    code = data.get("code", 200)
    if code not in (200, "200", 0, "0"):
        raise BoardBlocked(f"Zhaopin answered code {code}: {text(data.get('message')) or ''}")
    body = data.get("data", data)
    if isinstance(body, Mapping):
        for key in ("results", "list"):
            if isinstance(body.get(key), list):
                total = body.get("numFound") or body.get("count")
                return [position(i) for i in body[key] if isinstance(i, Mapping)], (int(total) if total else None)
        if body.get("jobName") or body.get("name"):
            return [position(body)], 1
    raise BoardFormatError("Zhaopin: no data.results / data.list / position object")


def _city(item: Mapping[str, Any]) -> tuple[str | None, str | None]:
    city = item.get("city")
    if isinstance(city, Mapping):
        items = city.get("items") or []
        first = items[0] if items and isinstance(items[0], Mapping) else {}
        area = text(city.get("display")) or text(first.get("name"))
        city_name, district = split_city(area)
        return city_name, district or text(item.get("cityDistrict"))
    city_name, district = split_city(text(city) or text(item.get("workCity")))
    return city_name, district or text(item.get("cityDistrict"))


def position(item: Mapping[str, Any]) -> Record:
    company = item.get("company")
    if isinstance(company, Mapping):
        company_name, size = text(company.get("name")), text(company.get("size"))
        industry = text(company.get("industry")) or text(item.get("industryName"))
    else:
        company_name, size = text(company) or text(item.get("companyName")), text(item.get("companySize"))
        industry = text(item.get("industryName"))
    city, district = _city(item)
    job_id = text(item.get("number") or item.get("jobId"))
    posted = text(item.get("publishTime") or item.get("createDate") or item.get("updateDate"))
    return {
        "id": f"{SOURCE}-{job_id}" if job_id else None,
        "source": SOURCE,
        "url": text(item.get("positionURL") or item.get("positionUrl")),
        "title": text(item.get("jobName") or item.get("name")),
        "company": company_name,
        "city": city,
        "district": district,
        "salary": text(item.get("salary") or item.get("salary60")),
        "experience": text(item.get("workingExp")),
        "education": text(item.get("eduLevel")),
        "industry": industry,
        "company_size": size,
        "employment_type": text(item.get("emplType")),
        "tags": tag_list(item.get("skillLabel"), item.get("jobSkillTags"), item.get("welfare")),
        "description": html_text(text(item.get("jobSummary") or item.get("jobDescription"))),
        "posted": posted_or_none(posted),
    }
