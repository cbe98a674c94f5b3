"""Posting location → province, city, district and NBS region.

Accepts what boards write: ``上海-浦东新区``, ``北京市朝阳区``, ``深圳·南山区``, ``广东省广州市``,
``广东省``, ``昆山``, ``浦东新区``, ``异地招聘``/``全国`` (no place), or a :class:`Location` whose
fields hold such text. Names are short forms (``广东``, ``广州``), the way the store and the
dashboard filter them. Unknown places are kept as the city text with no province. Never raises.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from skillsignal.core.models import Location

from ..cleaning import clean_text
from .geo import Gazetteer, Place, gazetteer

log = logging.getLogger(__name__)

_SEPARATORS = re.compile(r"[\s\-–—_·・•/|,，、()（）\[\]【】<>]+")
_TRAILING = re.compile(r"(?:附近|周边|地区|市区)$")


def resolve_location(value: str | Location | None) -> Location:
    """Resolve ``value`` to a :class:`Location` (province, city, district, region)."""
    if value is None:
        return Location()
    try:
        if isinstance(value, Location):
            return _resolve_location_model(value)
        return _resolve_text(str(value)) or Location(city=_clean(str(value)) or None)
    except Exception:  # noqa: BLE001 - a resolver bug must not lose the posting
        log.exception("location %r: resolver failed; kept as given", value)
        return value if isinstance(value, Location) else Location(city=str(value).strip() or None)


def _clean(text: str) -> str:
    text = clean_text(text).replace("\n", " ").strip()
    return text if any(ch.isalnum() for ch in text) else ""


def _resolve_location_model(loc: Location) -> Location:
    # city text carries the most ("北京-朝阳区"); the district and province fields refine it.
    text = " ".join(t for t in (loc.province, loc.city, loc.district) if t and t.strip())
    if not text.strip():
        return loc.model_copy()
    resolved = _resolve_text(text)
    if resolved is None:
        return Location(province=loc.province, city=loc.city, district=loc.district, region=loc.region)
    if resolved.district is None and loc.district and loc.district.strip():
        resolved.district = loc.district.strip()
    return resolved


@dataclass
class _Parts:
    """What the parts of a location text named, as they are read left to right."""

    province: Place | None = None
    city: Place | None = None
    district: str | None = None
    leftovers: list[str] = field(default_factory=list)


def _resolve_text(text: str) -> Location | None:
    """Location for ``text``, ``Location()`` for nationwide words, ``None`` when nothing is known."""
    gz = gazetteer()
    text = _clean(text)
    if not text:
        return Location()
    if text.casefold() in gz.nationwide:
        return Location()
    found = _Parts()
    for part in _SEPARATORS.split(text):
        _read_part(gz, _TRAILING.sub("", part) if len(part) > 4 else part, found)
    return _combine(gz, text, found)


def _read_part(gz: Gazetteer, part: str, found: _Parts) -> None:
    """Read the gazetteer names of one part of a location text into ``found``."""
    pos = 0
    while pos < len(part):
        # Inside a known city, its own districts come first ("北京朝阳" is 朝阳区, not 朝阳市).
        if found.city is not None and found.city.city is not None:
            own = _city_district(gz, found.city.city, part[pos:])
            if own is not None:
                found.district, pos = own[0], pos + own[1]
                continue
        hit = gz.longest(part, pos)
        if hit is None:
            found.leftovers.append(part[pos:])
            return
        key, place = hit
        pos += len(key)
        if place.kind == "province":
            found.province = found.province or place
        elif place.kind == "city":
            if found.city is None or (found.city.city != place.city and found.province is None):
                found.city = place
                if place.district and found.district is None:
                    found.district = place.district
            elif found.district is None:  # "长沙-长沙县": the city's name again, as a county
                found.district = part[pos - len(key) :]
                return
        else:  # district found on its own
            if found.city is None:
                found.city = Place("city", place.province, place.region, place.city)
            if found.district is None:
                found.district = place.district


def _combine(gz: Gazetteer, text: str, found: _Parts) -> Location | None:
    """The location the parts of ``text`` name together (``None``: none, ``Location()``: nationwide)."""
    province, city, district = found.province, found.city, found.district
    if province is None and city is None:
        if text.casefold() in gz.nationwide or any(w.casefold() in gz.nationwide for w in found.leftovers):
            return Location()
        return None
    if city is not None and province is not None and city.province != province.province:
        # "广东-长沙"? trust the city, the more specific
        province = None
    base = city or province
    assert base is not None
    if district is None and city is not None:
        rest = [w for w in found.leftovers if w and w.casefold() not in gz.nationwide]
        district = rest[0] if rest else None
    return Location(province=base.province, city=city.city if city else None, district=district, region=base.region)


def _city_district(gz: Gazetteer, city: str, text: str) -> tuple[str, int] | None:
    table = gz.city_districts.get(city)
    if not table:
        return None
    low = text.casefold()
    for length in range(min(len(low), 8), 1, -1):
        name = table.get(low[:length])
        if name is not None:  # longest first, so "朝阳区" wins over the stem "朝阳"
            return name, length
    return None
