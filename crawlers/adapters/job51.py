"""前程无忧 (51job) search JSON, in both shapes boards and scrapers have seen.

* Old search page data (``engine_search_result`` / ``engine_jds``): job_name, jobid, job_href,
  providesalary_text, workarea_text, attribute_text ([area, experience, education, headcount]),
  companyname, company_name, companysize_text, companyind_text, jobwelf / jobwelf_list,
  issuedate, job_describe (where present).
* Search API (``resultbody.job.items``): jobId, jobName, jobHref, provideSalaryString /
  jobSalary, jobAreaString, workYearString, degreeString, fullCompanyName / companyName,
  companySizeString, industryType1Str, jobTags, jobWelfareCodeDataList, issueDateString,
  jobDescribe (the full description).
"""

from __future__ import annotations

import re
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

SOURCE = "51job"

_EXPERIENCE = re.compile(r"(经验|年|应届|在校)")
_EDUCATION = re.compile(r"(初中|高中|中专|中技|大专|本科|硕士|博士|学历不限|MBA|EMBA)")


def parse_search(payload: str | bytes | Mapping[str, Any]) -> tuple[list[Record], int | None]:
    """(records, total pages or None) of one search response."""
    data = load_json(payload)
    if "engine_search_result" in data or "engine_jds" in data:
        items = data.get("engine_search_result") or data.get("engine_jds") or []
        pages = data.get("total_page")
        return [old_item(i) for i in items if isinstance(i, Mapping)], _int(pages)
    body = data.get("resultbody")
    if isinstance(body, Mapping):
        job = body.get("job") or {}
        items = job.get("items") or []
        total, size = _int(job.get("totalCount")), _int(job.get("pageSize")) or len(items) or 1
        return [api_item(i) for i in items if isinstance(i, Mapping)], (-(-total // size) if total else None)
    status = data.get("status")
    if status not in (None, "1", 1, "0", 0):
        raise BoardBlocked(f"51job answered status {status}: {text(data.get('message')) or ''}")
    raise BoardFormatError("51job search: neither engine_search_result nor resultbody.job.items")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def old_item(item: Mapping[str, Any]) -> Record:
    attrs = [a for a in (text(x) for x in item.get("attribute_text") or []) if a]
    area = text(item.get("workarea_text")) or (attrs[0] if attrs else None)
    city, district = split_city(area)
    experience = next((a for a in attrs[1:] if _EXPERIENCE.search(a) and not a.startswith("招")), None)
    education = next((a for a in attrs[1:] if _EDUCATION.search(a)), None)
    job_id = text(item.get("jobid"))
    return {
        "id": f"{SOURCE}-{job_id}" if job_id else None,
        "source": SOURCE,
        "url": text(item.get("job_href")),
        "title": text(item.get("job_name") or item.get("job_title")),
        "company": text(item.get("company_name") or item.get("companyname")),
        "city": city,
        "district": district,
        "salary": text(item.get("providesalary_text")),
        "experience": experience,
        "education": education,
        "industry": text(item.get("companyind_text")),
        "company_size": text(item.get("companysize_text")),
        "tags": tag_list(item.get("jobwelf_list") or item.get("jobwelf")),
        "description": html_text(text(item.get("job_describe"))),
        "posted": posted_or_none(item.get("issuedate")),
    }


def api_item(item: Mapping[str, Any]) -> Record:
    city, district = split_city(text(item.get("jobAreaString")))
    job_id = text(item.get("jobId"))
    welfare = [w.get("chineseTitle") if isinstance(w, Mapping) else w for w in item.get("jobWelfareCodeDataList") or []]
    return {
        "id": f"{SOURCE}-{job_id}" if job_id else None,
        "source": SOURCE,
        "url": text(item.get("jobHref")),
        "title": text(item.get("jobName")),
        "company": text(item.get("fullCompanyName") or item.get("companyName")),
        "city": city,
        "district": district,
        "salary": text(item.get("provideSalaryString") or item.get("jobSalary")),
        "experience": text(item.get("workYearString")),
        "education": text(item.get("degreeString")),
        "industry": text(item.get("industryType1Str")),
        "company_size": text(item.get("companySizeString")),
        "tags": tag_list(item.get("jobTags"), welfare),
        "description": html_text(text(item.get("jobDescribe"))),
        "posted": posted_or_none(item.get("issueDateString")),
    }
