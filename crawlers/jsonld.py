"""schema.org ``JobPosting`` (JSON-LD or microdata, as extruct gives it) -> flat record.

The flat record is the shape :func:`skillsignal.core.records.record_to_posting` reads. Text is
kept as written (HTML descriptions included); parsing salary, years and regions into numbers
is the normaliser's job. Posting ids are stable across runs and ports:

* ``identifier`` ``{name, value}`` -> ``f"{name}-{value}"`` with source ``name``;
* a bare identifier value -> ``f"{host}-{value}"`` with source = host name (no port);
* no identifier -> ``f"{host}-{sha1(canonical path + query)[:16]}"``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from w3lib.url import canonicalize_url

log = logging.getLogger(__name__)

JOBPOSTING = "jobposting"

#: schema.org employmentType enumeration -> the words Chinese boards use.
EMPLOYMENT_TYPES = {
    "FULL_TIME": "全职",
    "PART_TIME": "兼职",
    "CONTRACTOR": "合同工",
    "TEMPORARY": "临时",
    "INTERN": "实习",
    "VOLUNTEER": "志愿者",
    "PER_DIEM": "日结",
    "OTHER": "其他",
}
#: Google's credentialCategory values -> Chinese education levels.
CREDENTIALS = {
    "high school": "高中",
    "associate degree": "大专",
    "bachelor degree": "本科",
    "postgraduate degree": "硕士",
    "professional certificate": "职业资格证书",
}
UNITS = {"HOUR": "时", "DAY": "天", "WEEK": "周", "MONTH": "月", "YEAR": "年"}
MUNICIPALITIES = ("北京", "上海", "天津", "重庆")


# -- finding JobPosting objects ----------------------------------------------------------
def _types(obj: Mapping[str, Any]) -> list[str]:
    t = obj.get("@type") or obj.get("type") or []
    if isinstance(t, str):
        t = [t]
    return [str(x).rsplit("/", 1)[-1].rsplit("#", 1)[-1].lower() for x in t]


def find_jobpostings(data: Any) -> Iterator[dict[str, Any]]:
    """Every JobPosting object anywhere in extruct output (@graph, ItemList, nested lists)."""
    if isinstance(data, list):
        for x in data:
            yield from find_jobpostings(x)
    elif isinstance(data, dict):
        if JOBPOSTING in _types(data):
            yield data
            return
        for key, value in data.items():
            if isinstance(value, (dict, list)) and key not in ("@context",):
                yield from find_jobpostings(value)


def parse_jsonld_lenient(text: str) -> Any:
    """JSON-LD as sites write it: tolerate comments, CDATA, trailing commas, raw newlines."""
    cleaned = text.strip()
    cleaned = re.sub(r"^\s*(<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)", "", cleaned)
    cleaned = re.sub(r"(-->|//\s*\]\]>|\]\]>)\s*$", "", cleaned).strip()
    try:
        return json.loads(cleaned, strict=False)
    except ValueError:
        pass
    cleaned = re.sub(r"/\*.*?\*/", "", cleaned, flags=re.S)
    cleaned = re.sub(r",\s*([}\]])", r"\1", cleaned)
    return json.loads(cleaned, strict=False)


# -- field helpers -------------------------------------------------------------------------
def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _str(value: Any) -> str | None:
    value = _first(value)
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("value")
        if value is None:
            return None
    text = str(value).strip()
    return text or None


def _num(value: Any) -> str | None:
    if value is None or value == "":
        return None
    try:
        f = float(str(value).replace(",", ""))
    except ValueError:
        return str(value).strip() or None
    return str(int(f)) if f == int(f) else f"{f:g}"


def host_of(url: str) -> str:
    """Host name without port, lower case (``127.0.0.1``, ``jobs.example.com``)."""
    return (urlsplit(url).hostname or "unknown").lower()


def url_key(url: str) -> str:
    """Canonical path + query of a URL: what identifies a page whatever host port serves it."""
    canon = urlsplit(canonicalize_url(url, keep_fragments=False))
    return canon.path + (f"?{canon.query}" if canon.query else "")


def posting_identity(obj: Mapping[str, Any], page_url: str) -> tuple[str, str]:
    """(id, source) for a JobPosting found on ``page_url`` (see module docstring)."""
    host = host_of(page_url)
    ident = _first(obj.get("identifier"))
    name = value = None
    if isinstance(ident, dict):
        name = _str(ident.get("name"))
        value = _str(ident.get("value") if "value" in ident else ident.get("@value"))
    elif ident is not None:
        value = _str(ident)
    if value:
        source = name or host
        return f"{source}-{value}", source
    digest = hashlib.sha1(url_key(page_url).encode("utf-8")).hexdigest()[:16]
    return f"{host}-{digest}", host


def _location(obj: Mapping[str, Any]) -> dict[str, str | None]:
    loc = _first(obj.get("jobLocation"))
    out: dict[str, str | None] = {"province": None, "city": None, "district": None}
    if loc is None:
        return out
    address: Any = loc.get("address") if isinstance(loc, dict) else loc
    address = _first(address)
    if isinstance(address, str):
        out["city"] = address.strip() or None
        return out
    if not isinstance(address, dict):
        return out
    region = _str(address.get("addressRegion"))
    locality = _str(address.get("addressLocality"))
    district = _str(address.get("addressDistrict") or address.get("district"))
    street = _str(address.get("streetAddress"))
    if locality and not district and region and region.startswith(MUNICIPALITIES) and locality.endswith(("区", "县")):
        district, locality = locality, region
    if not district and street:
        m = re.match(r"^(?:.{2,4}[省市])?(.{1,6}?[区县])", street)
        if m:
            district = m.group(1)
    out.update(province=region, city=locality, district=district)
    return out


def _salary(obj: Mapping[str, Any]) -> str | None:
    for key in ("salaryText", "salary"):
        if text := _str(obj.get(key)):
            return text
    base = _first(obj.get("baseSalary") or obj.get("estimatedSalary"))
    if base is None:
        return None
    if not isinstance(base, dict):
        return _str(base)
    currency = _str(base.get("currency")) or "CNY"
    value = _first(base.get("value"))
    unit = _str(base.get("unitText"))
    if isinstance(value, dict):
        unit = _str(value.get("unitText")) or unit
        lo, hi = _num(value.get("minValue")), _num(value.get("maxValue"))
        single = _num(value.get("value"))
    else:
        lo = hi = None
        single = _num(value)
        if single is not None and not re.match(r"^\d", single):
            return single  # already text ("面议", "15-25K·13薪")
    amount: str | None
    if lo and hi:
        amount = lo if lo == hi else f"{lo}-{hi}"
    else:
        amount = lo or hi or single
    if not amount:
        return None
    per = UNITS.get((unit or "MONTH").upper(), unit or "月")
    money = "元" if currency.upper() in ("CNY", "RMB") else f" {currency}"
    return f"{amount}{money}/{per}"


def _experience(obj: Mapping[str, Any]) -> str | None:
    value = _first(obj.get("experienceRequirements"))
    if isinstance(value, dict):
        months = value.get("monthsOfExperience")
        if months not in (None, ""):
            try:
                years = float(months) / 12
            except (TypeError, ValueError):
                return _str(value.get("description")) or str(months)
            if years <= 0:
                return "经验不限"
            return f"{years:g}年以上"
        return _str(value.get("description"))
    return _str(value)


def _education(obj: Mapping[str, Any]) -> str | None:
    value = _first(obj.get("educationRequirements"))
    if isinstance(value, dict):
        cat = _str(value.get("credentialCategory"))
        if cat:
            return CREDENTIALS.get(cat.lower(), cat)
        return _str(value.get("description") or value.get("name"))
    return _str(value)


def _employment(obj: Mapping[str, Any]) -> str | None:
    value = obj.get("employmentType")
    values = value if isinstance(value, list) else [value]
    words = [EMPLOYMENT_TYPES.get(str(v).strip().upper().replace("-", "_"), str(v).strip()) for v in values if v]
    return "、".join(w for w in words if w) or None


def _tags(obj: Mapping[str, Any]) -> list[str]:
    tags: list[str] = []
    for key in ("skills", "keywords"):
        value = obj.get(key)
        for v in value if isinstance(value, list) else [value]:
            if v is None:
                continue
            if isinstance(v, dict):
                v = v.get("name")
            if v is None:
                continue
            tags.extend(t.strip() for t in re.split(r"[,，;；|、\n]", str(v)) if t.strip())
    return list(dict.fromkeys(tags))


def _company_size(org: Any) -> str | None:
    if not isinstance(org, dict):
        return None
    n = _first(org.get("numberOfEmployees"))
    if isinstance(n, dict):
        lo, hi = _num(n.get("minValue")), _num(n.get("maxValue"))
        if lo and hi:
            return f"{lo}-{hi}人"
        if lo:
            return f"{lo}人以上"
        return _num(n.get("value"))
    return _str(n)


def _industry(obj: Mapping[str, Any]) -> str | None:
    value = obj.get("industry")
    values: Iterable[Any] = value if isinstance(value, list) else [value]
    words = [w for w in (_str(v) for v in values) if w]
    return "、".join(words) or None


def jobposting_to_record(obj: Mapping[str, Any], page_url: str) -> dict[str, Any]:
    """A flat record (``record_to_posting`` keys) for one JobPosting found on ``page_url``."""
    pid, source = posting_identity(obj, page_url)
    org = _first(obj.get("hiringOrganization"))
    record: dict[str, Any] = {
        "id": pid,
        "source": source,
        "url": page_url,
        "title": _str(obj.get("title")) or _str(obj.get("name")),
        "company": _str(org),
        "company_size": _company_size(org),
        "description": _str(obj.get("description")) or "",
        "salary": _salary(obj),
        "experience": _experience(obj),
        "education": _education(obj),
        "industry": _industry(obj),
        "employment_type": _employment(obj),
        "tags": _tags(obj),
        "posted": _str(obj.get("datePosted")),
    }
    record.update(_location(obj))
    return record
