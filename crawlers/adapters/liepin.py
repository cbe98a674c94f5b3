"""猎聘 (Liepin) job detail page HTML.

Read with CSS selectors: title ``.job-apply-content .name`` (or ``h1``), salary ``.salary``,
properties ``.job-properties span`` (area, experience, education), tags ``.job-apply-content
.labels span``, description ``[data-selector="job-intro-content"]`` (or ``.job-intro-container
dd``), company ``.company-info-container .name``, company facts ``.company-other .label-box``
(企业行业 / 人数规模). The job id is the number in the ``/job/<id>.shtml`` URL. Selectors follow
the public page's layout as of writing; a page without a title or description is a format error.
"""

from __future__ import annotations

import re

from parsel import Selector

from .base import BoardBlocked, BoardFormatError, Record, node_text, split_city, tag_list, text

SOURCE = "liepin"
_JOB_ID = re.compile(r"/(?:job|a)/(\d+)\.shtml")
_EXPERIENCE = re.compile(r"(经验|年)")
_EDUCATION = re.compile(r"(初中|高中|中专|大专|本科|硕士|博士|学历不限|统招)")


def parse_detail(page: str, url: str | None = None) -> Record:
    sel = Selector(text=page)
    title = node_text(sel, ".job-apply-content .name, .job-title-box .name, h1")
    description = node_text(sel, '[data-selector="job-intro-content"], .job-intro-container dd')
    if not title or not description:
        if "验证" in page[:5000] or sel.css(".captcha, #nc_1_wrapper").get():
            raise BoardBlocked("Liepin: verification page")
        raise BoardFormatError("Liepin detail: no title or no job-intro-content")
    props = [t.strip() for t in sel.css(".job-properties span::text").getall() if t.strip()]
    city, district = split_city(props[0] if props else None)
    facts: dict[str, str] = {}
    for box in sel.css(".company-other .label-box"):
        label = (box.css(".label::text").get() or "").strip().rstrip(":：")
        value = text(box.css(".text::text").get())
        if label and value:
            facts[label] = value
    m = _JOB_ID.search(url or "")
    return {
        "id": f"{SOURCE}-{m.group(1)}" if m else None,
        "source": SOURCE,
        "url": url,
        "title": title,
        "company": node_text(sel, ".company-info-container .name, .company-card .name") or None,
        "city": city,
        "district": district,
        "salary": node_text(sel, ".job-apply-content .salary, .job-title-box .salary") or None,
        "experience": next((p for p in props[1:] if _EXPERIENCE.search(p)), None),
        "education": next((p for p in props[1:] if _EDUCATION.search(p)), None),
        "industry": facts.get("企业行业") or facts.get("行业"),
        "company_size": facts.get("人数规模") or facts.get("企业规模"),
        "tags": tag_list(sel.css(".job-apply-content .labels span::text").getall()),
        "description": description,
        "posted": None,
    }
