"""BOSS直聘: the job list JSON (``zpData.jobList``) and the detail page HTML.

List item fields read: encryptJobId, jobName, salaryDesc, jobExperience, jobDegree, cityName,
areaDistrict, businessDistrict, brandName, brandIndustry, brandScaleName, skills (the
employer's skill tags), welfareList, jobLabels. The list carries no description; the detail
page holds it in ``.job-sec-text`` (:func:`parse_detail` fills it in). A ``code`` other than 0
(e.g. the "访问行为异常" answer) is a block: :class:`BoardBlocked`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from parsel import Selector

from .base import BoardBlocked, BoardFormatError, Record, load_json, node_text, tag_list, text

SOURCE = "boss"
BASE_URL = "https://www.zhipin.com"


def detail_url(encrypt_job_id: str, base_url: str = BASE_URL) -> str:
    return f"{base_url.rstrip('/')}/job_detail/{encrypt_job_id}.html"


def parse_list(payload: str | bytes | Mapping[str, Any], base_url: str = BASE_URL) -> tuple[list[Record], bool]:
    """(records, has_more) of one list response."""
    data = load_json(payload)
    code = data.get("code", 0)
    if code not in (0, "0"):
        raise BoardBlocked(f"BOSS直聘 answered code {code}: {text(data.get('message')) or 'no message'}")
    zp = data.get("zpData")
    if not isinstance(zp, Mapping) or not isinstance(zp.get("jobList"), list):
        raise BoardFormatError("BOSS直聘 list: no zpData.jobList")
    records = [list_item(item, base_url) for item in zp["jobList"] if isinstance(item, Mapping)]
    return records, bool(zp.get("hasMore"))


def list_item(item: Mapping[str, Any], base_url: str = BASE_URL) -> Record:
    job_id = text(item.get("encryptJobId"))
    return {
        "id": f"{SOURCE}-{job_id}" if job_id else None,
        "source": SOURCE,
        "url": detail_url(job_id, base_url) if job_id else None,
        "title": text(item.get("jobName")),
        "company": text(item.get("brandName")),
        "city": text(item.get("cityName")),
        "district": text(item.get("areaDistrict")),
        "salary": text(item.get("salaryDesc")),
        "experience": text(item.get("jobExperience")),
        "education": text(item.get("jobDegree")),
        "industry": text(item.get("brandIndustry")),
        "company_size": text(item.get("brandScaleName")),
        "tags": tag_list(item.get("skills"), item.get("welfareList")),
        "description": "",
    }


def parse_detail(page: str, record: Record | None = None) -> Record:
    """The record with the detail page's description (and title/salary if the list had none)."""
    sel = Selector(text=page)
    if sel.css(".job-sec-text").get() is None:
        if sel.css("#wrap .verify-container, .validate-page, .geetest_holder").get() or "安全验证" in page[:5000]:
            raise BoardBlocked("BOSS直聘 detail: verification page")
        raise BoardFormatError("BOSS直聘 detail: no .job-sec-text")
    out = dict(record or {"source": SOURCE})
    out["description"] = node_text(sel, ".job-sec-text")
    out.setdefault("title", None)
    if not out.get("title"):
        out["title"] = node_text(sel, ".job-banner .name h1, .info-primary .name h1") or None
    if not out.get("salary"):
        out["salary"] = node_text(sel, ".job-banner .salary, .info-primary .salary") or None
    tags = tag_list(out.get("tags"), sel.css(".job-keyword-list li::text").getall())
    out["tags"] = tags
    return out
