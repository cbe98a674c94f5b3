"""China's administrative geography (``nlp/data/geo/cities.yaml``): schema, checks and a name index.

:func:`gazetteer` loads and validates the file once and returns a :class:`Gazetteer` with a
name → place index (province full/short names, city full/short names, aliases, districts).
Checks on load: 34 provincial-level units with unique names, regions from the NBS split, every
mainland province in a region, 333 prefecture-level divisions, no city listed twice, every
district and alias pointing at a known city.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .data import GEO_DIR, _Strict, load_yaml

PROVINCIAL_UNITS = 34
PREFECTURE_DIVISIONS = 333  # 293 地级市 + 7 地区 + 30 自治州 + 3 盟


class CityEntry(_Strict):
    short: str = Field(min_length=1)
    full: str = Field(min_length=1)


def _city(value: object) -> object:
    if isinstance(value, str):
        return {"short": value, "full": value if value.endswith("市") else value + "市"}
    return value


class ProvinceEntry(_Strict):
    name: str = Field(min_length=2)
    short: str = Field(min_length=2)
    region: Literal["east", "central", "west", "northeast"] | None
    kind: Literal["province", "municipality", "autonomous_region", "sar"]
    cities: list[CityEntry] = Field(default_factory=list)
    direct: list[CityEntry] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _expand(cls, data: object) -> object:
        if isinstance(data, dict):
            data = dict(data)
            for key in ("cities", "direct"):
                data[key] = [_city(c) for c in data.get(key) or []]
        return data

    @model_validator(mode="after")
    def _shape(self) -> ProvinceEntry:
        own_city = self.kind in ("municipality", "sar")
        if own_city and self.cities:
            raise ValueError(f"{self.name}: a {self.kind} is its own city and lists none")
        if self.kind == "province" and not self.cities and self.short != "台湾":
            raise ValueError(f"{self.name}: a province needs its prefecture-level cities")
        if self.region is None and self.short not in ("香港", "澳门", "台湾"):
            raise ValueError(f"{self.name}: mainland units need a region")
        return self


class GeoFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    provinces: list[ProvinceEntry]
    districts: dict[str, list[str]]
    aliases: dict[str, str]
    nationwide: list[str]

    @model_validator(mode="after")
    def _consistent(self) -> GeoFile:
        if len(self.provinces) != PROVINCIAL_UNITS:
            raise ValueError(f"{len(self.provinces)} provincial-level units, expected {PROVINCIAL_UNITS}")
        for attr in ("name", "short"):
            names = [getattr(p, attr) for p in self.provinces]
            dupes = {n for n in names if names.count(n) > 1}
            if dupes:
                raise ValueError(f"province {attr}s listed twice: {sorted(dupes)}")
        prefectures = sum(len(p.cities) for p in self.provinces)
        if prefectures != PREFECTURE_DIVISIONS:
            raise ValueError(f"{prefectures} prefecture-level divisions, expected {PREFECTURE_DIVISIONS}")
        city_names: list[str] = []
        for p in self.provinces:
            if p.kind in ("municipality", "sar"):
                city_names.append(p.short)
            city_names += [c.short for c in p.cities + p.direct]
        dupes = {n for n in city_names if city_names.count(n) > 1}
        if dupes:
            raise ValueError(f"cities listed twice: {sorted(dupes)}")
        known = set(city_names)
        for city in self.districts:
            if city not in known:
                raise ValueError(f"districts given for unknown city {city!r}")
        for alias, city in self.aliases.items():
            if city not in known:
                raise ValueError(f"alias {alias!r} points at unknown city {city!r}")
        return self


@dataclass(frozen=True)
class Place:
    """One resolved name: what kind of thing it names and where it sits."""

    kind: Literal["province", "city", "district"]
    province: str
    region: str | None
    city: str | None = None
    district: str | None = None


@dataclass
class Gazetteer:
    names: dict[str, Place] = field(default_factory=dict)
    city_districts: dict[str, dict[str, str]] = field(default_factory=dict)  # city -> {key: district}
    nationwide: frozenset[str] = frozenset()
    max_len: int = 1

    def add(self, key: str, place: Place, override: bool = False) -> None:
        key = key.casefold()
        if override or key not in self.names:
            self.names[key] = place
            self.max_len = max(self.max_len, len(key))

    def longest(self, text: str, start: int = 0) -> tuple[str, Place] | None:
        """Longest indexed name starting at ``text[start]`` (two characters at least)."""
        low = text.casefold()
        for length in range(min(self.max_len, len(text) - start), 1, -1):
            place = self.names.get(low[start : start + length])
            if place is not None:
                return low[start : start + length], place
        return None


def _district_keys(name: str) -> list[str]:
    keys = [name]
    for suffix in ("新区", "区", "县", "街道"):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            keys.append(name[: -len(suffix)])
            break
    return keys


def build(data: GeoFile) -> Gazetteer:
    gz = Gazetteer(nationwide=frozenset(n.casefold() for n in data.nationwide))
    city_province: dict[str, ProvinceEntry] = {}
    # Cities first, then provinces override: "吉林"/"海南" alone mean the province.
    for p in data.provinces:
        own = [CityEntry(short=p.short, full=p.name)] if p.kind in ("municipality", "sar") else []
        for c in own + p.cities + p.direct:
            city_province[c.short] = p
            place = Place("city", p.short, p.region, c.short)
            keys = {c.short, c.full, c.full.removesuffix("市") + "市"}
            if c.full.endswith("自治州"):
                keys.add(c.short.removesuffix("州") + "州")  # 恩施州, 凉山州
            for key in keys:
                gz.add(key, place)
    for p in data.provinces:
        kind: Literal["province", "city"] = "city" if p.kind in ("municipality", "sar") else "province"
        place = Place(kind, p.short, p.region, p.short if kind == "city" else None)
        for key in (p.name, p.short, p.short + "省"):
            gz.add(key, place, override=True)
    for alias, city in data.aliases.items():
        p = city_province[city]
        gz.add(alias, Place("city", p.short, p.region, city, alias if alias[0] > "\u2e80" else None))
    for city, districts in data.districts.items():
        p = city_province[city]
        table = gz.city_districts.setdefault(city, {})
        for d in districts:
            for key in _district_keys(d):
                table.setdefault(key.casefold(), d)
                # A district alone finds its city; the first city listing it wins. Bare stems
                # ("朝阳", "南山") are not indexed alone: they are also cities or common words.
                if key == d:
                    gz.add(d, Place("district", p.short, p.region, city, d))
    return gz


@lru_cache(maxsize=1)
def load_geo() -> GeoFile:
    return load_yaml(GEO_DIR / "cities.yaml", GeoFile)


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    return build(load_geo())
