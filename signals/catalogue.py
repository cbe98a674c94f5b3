"""The urgently-needed-talent catalogue (紧缺人才目录): every occupation × level (× direction) rated.

:func:`build_catalogue` reads the store once for the bulk — the monthly :class:`SignalCell`
aggregates of the period, the previous period, the same period a year before and the rating's
history — then the top skills and the top competencies of every listed occupation × level
(× direction) from one grouped ranking per facet, at the catalogue's geography (a province
breakdown shares them across its provinces).

Without supply data the catalogue measures demand tightness (需求紧张度); with a
:class:`signals.supply.SupplyTable` each entry also carries supply and openings ÷ supply
(the 求人倍率 shape), and only then is ``measure`` ``demand_supply_ratio``.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from skill_taxonomy import Taxonomy
from skillsignal.core.models import LEVELS, REGIONS
from storage import PostingFilter, PostingIndex

from .indicators import Aggregate, CellKey, CellTable, KeyT, cell_indicators
from .models import Catalogue, CatalogueEntry, NamedCount, Rating, SignalCheck, Thresholds
from .periods import Period, parse_period
from .rating import checks, decide, describe, rating_of
from .supply import SupplyTable

log = logging.getLogger(__name__)

Breakdown = Literal["region", "province"]
#: (occupation, level, direction) of the entries that share top skills and competencies
GroupKey = tuple[str, str | None, str | None]
#: region names a user may write, to the store's region ids
REGION_NAMES: dict[str, str] = {
    "东部": "east",
    "中部": "central",
    "西部": "west",
    "东北": "northeast",
    **{r: r for r in REGIONS},
}
_LABEL_ORDER = {"critical": 0, "elevated": 1, "normal": 2, "suppressed": 3}
_LEVEL_ORDER: dict[str, int] = {lvl: i for i, lvl in enumerate(LEVELS)}
_GEO_DIMS: dict[Breakdown | None, tuple[str, ...]] = {
    "province": ("region", "province"),
    "region": ("region",),
    None: (),
}


class CatalogueError(ValueError):
    """A catalogue request that cannot be answered (unknown region, bad period)."""


def region_id(name: str | None) -> str | None:
    """东部 / east → east; None stays None."""
    if name is None:
        return None
    rid = REGION_NAMES.get(name.strip())
    if rid is None:
        raise CatalogueError(f"unknown region {name!r}; one of {', '.join(REGION_NAMES)}")
    return rid


@dataclass
class _Builder:
    """One catalogue request: the store's cells, the digital denominators, the entries."""

    store: PostingIndex
    taxonomy: Taxonomy
    period: Period
    thresholds: Thresholds
    base: PostingFilter
    dims: tuple[str, ...]
    n_geo: int
    region: str | None
    province: str | None
    supply: SupplyTable | None
    table: CellTable = field(init=False)
    digital_now: dict[KeyT, Aggregate] = field(init=False)
    digital_hist: dict[KeyT, Aggregate] = field(init=False)
    occupation_now: dict[KeyT, Aggregate] = field(init=False)
    region_provinces: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        p = self.period
        self.history = p.history_months(self.thresholds.history_months)
        self.first = min(self.history[0], p.previous().start, p.year_before().start)
        self.table = CellTable.from_store(self.store, self.base, self.dims, self.first, p.end)
        core = {o.code for o in self.taxonomy.core_occupations}

        def digital(key: KeyT) -> KeyT | None:
            return self.geo_of(key) if key[0] in core else None

        def occupation_geo(key: KeyT) -> KeyT | None:
            return (key[0], *self.geo_of(key))

        self.digital_now = self.table.grouped(p.months, digital)
        self.digital_hist = self.table.grouped(self.history, digital)
        self.occupation_now = self.table.grouped(p.months, occupation_geo) if self.supply is not None else {}

    def geo_of(self, key: KeyT) -> KeyT:
        return key[len(key) - self.n_geo :] if self.n_geo else ()

    def entry_keys(self) -> list[KeyT]:
        """Every occupation × level (× direction and geography seen in the data)."""
        table_keys = self.table.keys()
        geos: list[KeyT] = [()]
        if self.n_geo:
            geos = sorted({self.geo_of(k) for k in table_keys}, key=lambda g: tuple(v or "" for v in g))
        by_direction = "direction" in self.dims
        levels: tuple[str | None, ...] = LEVELS if "level" in self.dims else (None,)
        directions: dict[str | None, set[str | None]] = defaultdict(set)
        for k in table_keys if by_direction else ():
            directions[k[0]].add(k[1])
        keys: list[KeyT] = []
        for occ in self.taxonomy.occupations:
            dirs = (sorted(directions.get(occ, set()), key=lambda d: d or "") or [None]) if by_direction else [None]
            for level in levels:
                for direction in dirs:
                    mid = (*((direction,) if by_direction else ()), *((level,) if level else ()))
                    keys.extend((occ, *mid, *geo) for geo in geos)
        return keys

    def supply_provinces(self, values: dict[str, str | None]) -> list[str] | None:
        """The provinces whose supply rows count for an entry (None = every row)."""
        if values.get("province"):
            return [str(values["province"])]
        if self.province is not None:
            return [self.province]
        reg = values.get("region") or self.region
        if reg is None:
            return None
        if reg not in self.region_provinces:  # the region's provinces as its postings place them
            flt = self.base.model_copy(update={"regions": [reg], "start": self.first, "end": self.period.end})
            self.region_provinces[reg] = [b.key for b in self.store.ranking("provinces", flt, limit=100).buckets]
        return self.region_provinces[reg]

    def entry(self, key: KeyT) -> CatalogueEntry:
        p, t, table, empty = self.period, self.thresholds, self.table, Aggregate()
        values = dict(zip(self.dims, key, strict=True))
        geo = self.geo_of(key)
        occ = self.taxonomy.occupations[str(key[0])]
        now = table.sum(key, p.months)
        cell = CellKey(
            occupation=occ.code,
            direction=values.get("direction"),
            level=values.get("level"),
            region=values.get("region", self.region),
            province=values.get("province", self.province),
        )
        ind = cell_indicators(
            cell,
            p,
            now,
            previous=table.sum(key, p.previous().months),
            year_before=table.sum(key, p.year_before().months),
            digital=self.digital_now.get(geo, empty),
            occupation_name=occ.name_zh,
            min_sample=t.min_sample,
        )
        if now.unique_postings == 0:
            cell_checks: list[SignalCheck] = []
        else:
            before = table.sum(key, self.history)
            cell_checks = checks(now, before, self.digital_now.get(geo, empty), self.digital_hist.get(geo, empty), t)
        if self.supply is not None:
            demand = self.occupation_now.get((occ.code, *geo))
            amount = self.supply.supply(occ.code, p, self.taxonomy, self.supply_provinces(values))
            ind.supply = amount
            if amount and demand is not None and demand.unique_postings >= t.min_sample:
                ind.demand_supply_ratio = demand.unique_postings * self.supply.annualise(p) / amount
        # the rating is decided once every entry's checks are in (one false-discovery-rate family)
        placeholder = Rating(label="suppressed", checks=cell_checks, reasons=[f"no postings in {p.label}"])
        return CatalogueEntry(indicators=ind, rating=placeholder, related_majors=list(occ.majors))


def _order(entry: CatalogueEntry) -> tuple[int, float, str, int, str, str, str]:
    ind = entry.indicators
    return (
        _LABEL_ORDER[entry.rating.label],
        -(entry.rating.score or 0.0),
        ind.occupation or "",
        _LEVEL_ORDER.get(ind.level or "", len(LEVELS)),
        ind.direction or "",
        ind.region or "",
        ind.province or "",
    )


def build_catalogue(
    store: PostingIndex,
    taxonomy: Taxonomy,
    period: str,
    *,
    region: str | None = None,
    province: str | None = None,
    supply: SupplyTable | None = None,
    min_sample: int = 30,
    breakdown: Breakdown | None = None,
    by_direction: bool = False,
    by_level: bool = True,
    top: int = 5,
    with_skills: bool = True,
    thresholds: Thresholds | None = None,
    flt: PostingFilter | None = None,
) -> Catalogue:
    """The catalogue of ``period`` (``2026-07``, ``2026Q3``, ``2026``) for the whole store, a
    ``region`` (``east`` … or ``东部`` …) or a ``province`` (short name, 广东).

    Entries: every occupation of ``taxonomy`` × level (``by_level=False``: all levels together)
    (× direction seen, with ``by_direction``)
    (× region or province seen, with ``breakdown``), tightest first (label, then score). The
    signals of all entries form one false-discovery-rate family (:func:`signals.rating.decide`).
    ``min_sample`` overrides ``thresholds.min_sample``. ``top`` skills and competencies per entry
    (``with_skills=False`` skips the rankings). ``flt`` narrows the postings further (its dates
    are replaced by the period's and its history's).
    """
    started = time.perf_counter()
    p = parse_period(period)
    t = describe((thresholds or Thresholds()).model_copy(update={"min_sample": min_sample}))
    rid = region_id(region)
    update: dict[str, object] = {"start": None, "end": None}
    if rid is not None:
        update["regions"] = [rid]
    if province is not None:
        update["provinces"] = [province]
    base = (flt or PostingFilter()).model_copy(update=update)
    geo_dims = _GEO_DIMS[breakdown]
    dims = ("occupation", *(("direction",) if by_direction else ()), *(("level",) if by_level else ()), *geo_dims)
    builder = _Builder(store, taxonomy, p, t, base, dims, len(geo_dims), rid, province, supply)
    fetched = time.perf_counter()
    entries = [builder.entry(key) for key in builder.entry_keys()]
    decide([c for e in entries for c in e.rating.checks], t)
    for e in entries:
        if e.rating.checks:
            e.rating = rating_of(e.rating.checks, t)
    if with_skills and top > 0:
        _attach_skills(store, taxonomy, base, p, entries, dims, top)
    entries.sort(key=_order)
    log.info(
        "catalogue %s: %d entries from %d cells (store %.2fs, total %.2fs)",
        p.label,
        len(entries),
        sum(len(v) for v in builder.table.by_key.values()),
        fetched - started,
        time.perf_counter() - started,
    )
    return Catalogue(
        period=p.label,
        start=p.start,
        end=p.end,
        region=rid,
        province=province,
        measure="demand_supply_ratio" if supply is not None else "demand_tightness",
        thresholds=t,
        entries=entries,
    )


def _group_key(values: Sequence[str | None], by: Sequence[str]) -> GroupKey:
    named = dict(zip(by, values, strict=True))
    return (named["occupation"] or "", named.get("level"), named.get("direction"))


def _attach_skills(
    store: PostingIndex,
    taxonomy: Taxonomy,
    base: PostingFilter,
    period: Period,
    entries: Sequence[CatalogueEntry],
    dims: Sequence[str],
    top: int,
) -> None:
    """Top skills and competencies of every occupation × level (× direction) at the catalogue's
    geography, shared by the entries of every province or region of a breakdown; entries without
    postings get none. One grouped ranking per facet (:meth:`PostingIndex.grouped_rankings`) for
    all groups at once — each group's list is the one ``ranking(facet, its filter, limit=top)``
    gives; skills without a unique posting are left out."""
    wanted: dict[GroupKey, list[CatalogueEntry]] = defaultdict(list)
    for e in entries:
        ind = e.indicators
        if ind.occupation and ind.unique_postings > 0:
            wanted[(ind.occupation, ind.level, ind.direction)].append(e)
    by = [d for d in ("occupation", "direction", "level") if d in dims]
    flt = base.model_copy(update={"start": period.start, "end": period.end})
    skill_names = {s.id: s.name_zh for s in taxonomy.skills.values()}
    skills = {
        _group_key(group, by): [
            NamedCount(id=b.key, name=b.name or skill_names.get(b.key), postings=b.unique_postings)
            for b in buckets
            if b.unique_postings > 0
        ]
        for group, buckets in store.grouped_rankings("skills", flt, by, limit=top).items()
    }
    competencies = {
        _group_key(group, by): buckets
        for group, buckets in store.grouped_rankings("competencies", flt, by, limit=top).items()
    }
    for (occ, level, direction), group in wanted.items():
        levels = taxonomy.occupations[occ].levels if occ in taxonomy.occupations else {}
        statements = {c.id: c.text for lvl, comps in levels.items() if level in (None, lvl) for c in comps}
        comps = [
            NamedCount(id=b.key, name=b.name or statements.get(b.key), postings=b.unique_postings)
            for b in competencies.get((occ, level, direction), [])
        ]
        for e in group:
            e.top_skills = skills.get((occ, level, direction), [])
            e.top_competencies = comps
