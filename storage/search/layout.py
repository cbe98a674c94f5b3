"""How postings are spread over concrete indices: the shard sizing rule and time-based indices.

Concrete index names (all behind one read alias)::

    <alias>-v<mapping version>-<generation>               period "none": one index
    <alias>-v<mapping version>-<generation>-<yyyy>        period "year"
    <alias>-v<mapping version>-<generation>-<yyyy>-<mm>   period "month"

``generation`` is ``0`` for the indices a new alias starts with and a UTC timestamp for those
:func:`storage.search.reindex` builds; the layout of a live alias is read back from its index
names (:func:`parse_layout`), so a process never needs to be told it. A posting is written to the
index of its posting date (:meth:`Layout.index_for`); reads go through the alias.

The sizing rule (docs/search-cluster.md): primary shards per concrete index =
ceil(postings per index x bytes per posting / target shard size), at least 1; replicas =
min(1, data nodes - 1). Either can be set outright.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

Period = Literal["none", "year", "month"]

_GB = 1024**3


class ShardPlan(BaseModel):
    """Shards and replicas of every concrete index (the template's ``number_of_*`` settings)."""

    shards: int = Field(ge=1)
    replicas: int = Field(ge=0)
    #: the sizing rule's estimate of one index's primary store, bytes (0 when shards were given)
    expected_bytes: int = Field(default=0, ge=0)


def periods_per_year(period: Period) -> int:
    return {"none": 1, "year": 1, "month": 12}[period]


def shard_plan(
    *,
    period: Period,
    nodes: int = 1,
    postings_per_year: int = 5_000_000,
    bytes_per_posting: int = 8_000,
    target_shard_gb: float = 30.0,
    shards: int | None = None,
    replicas: int | None = None,
    years_kept: int = 1,
) -> ShardPlan:
    """The sizing rule. ``period`` "none" keeps every year in one index (``years_kept`` of them)."""
    if nodes < 1:
        raise ValueError("a cluster has at least one node")
    per_index = postings_per_year * (years_kept if period == "none" else 1) / periods_per_year(period)
    expected = int(per_index * bytes_per_posting)
    planned = max(1, math.ceil(expected / (target_shard_gb * _GB)))
    return ShardPlan(
        shards=shards if shards is not None else planned,
        replicas=replicas if replicas is not None else min(1, nodes - 1),
        expected_bytes=0 if shards is not None else expected,
    )


def period_key(day: date, period: Period) -> str | None:
    """The index suffix of a posting date: ``2026`` (year), ``2026-03`` (month), None (one index)."""
    if period == "year":
        return f"{day.year:04d}"
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    return None


@dataclass(frozen=True)
class Layout:
    """One generation of concrete indices behind ``alias``."""

    alias: str
    generation: str  # "v<version>-<stamp>"
    period: Period

    @property
    def prefix(self) -> str:
        return f"{self.alias}-{self.generation}"

    def index_for(self, day: date) -> str:
        key = period_key(day, self.period)
        return self.prefix if key is None else f"{self.prefix}-{key}"

    def owns(self, name: str) -> bool:
        """Whether ``name`` is a concrete index of this generation."""
        m = _name_pattern(self.alias).fullmatch(name)
        return m is not None and m.group(1) == self.generation


def _name_pattern(alias: str) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(alias)}-(v\d+-\d+)(?:-(\d{{4}})(?:-(\d{{2}}))?)?")


def parse_layout(alias: str, names: list[str]) -> Layout | None:
    """The layout of the newest generation among ``names`` (the indices behind the alias); None
    when none of them is named by this module's scheme."""
    found: list[tuple[str, Period]] = []
    pattern = _name_pattern(alias)
    for name in names:
        m = pattern.fullmatch(name)
        if m:
            period: Period = "month" if m.group(3) else "year" if m.group(2) else "none"
            found.append((m.group(1), period))
    if not found:
        return None

    def stamp(generation: str) -> tuple[int, int]:
        version, _, when = generation[1:].partition("-")
        return int(when), int(version)

    generation, period = max(found, key=lambda f: stamp(f[0]))
    return Layout(alias, generation, period)
