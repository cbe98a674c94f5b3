"""Every API endpoint that takes the common filter applies every field of it, on every backend.

The API is built over each conformance backend (SQLite, and the search backend on osmem-server)
loaded with the generated postings. For each filter field there is a value that selects a strict,
non-empty subset of them; each endpoint's answer under that one-field filter is checked against an
answer computed here, in plain Python, from the subset alone (``data.matches``), and that expected
answer must differ from the unfiltered one, so an endpoint that ignored the field would fail.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date

import pytest
from fastapi.testclient import TestClient

from skillsignal.core.config import Settings
from storage.base import posted_date
from storage.filters import PostingFilter

from . import data

#: one value per filter field, each selecting a strict non-empty subset of the generated postings
FIELD_VALUES: dict[str, object] = {
    "start": "2026-03-01",
    "end": "2026-02-10",
    "occupations": "2-02-38-03",
    "directions": "bigdata",
    "levels": "高级",
    "skills": "spark",
    "provinces": "湖北",
    "cities": "苏州",
    "regions": "west",
    "companies": "乙数据",
    "industries": "金融",
    "education": "硕士",
    "sources": "51job",
    "experience_min": 3,
    "experience_max": 2,
    "salary_min": 20000,
    "salary_max": 10000,
}
SKILL = "python"


#: GET /v1/skills/compare reads its `skills` parameter as the skills compared, which is also the
#: filter's skills field there (narrowing to postings naming a compared skill changes nothing); a
#: separate skills filter goes in the POST body, which is checked with it
NOT_EXPRESSIBLE = {("GET /v1/skills/compare", "skills")}


def _filter(field: str) -> PostingFilter:
    value = FIELD_VALUES[field]
    is_list = PostingFilter.model_fields[field].default_factory is list
    return PostingFilter.model_validate({field: [value] if is_list else value})


class World:
    """The postings, their duplicate marks and the reference answers over a subset."""

    def __init__(self, postings, dups):
        self.postings, self.dups = postings, dups
        self.first = min(posted_date(p) for p in postings)
        self.last = max(posted_date(p) for p in postings)

    def subset(self, flt: PostingFilter):
        return [p for p in self.postings if data.matches(p, flt)]

    def window(self, flt: PostingFilter) -> PostingFilter:
        return PostingFilter(start=flt.start or self.first, end=flt.end or self.last)

    def series(self, ps, flt: PostingFilter, interval: str = "month") -> list[tuple[str, int]]:
        """(period, total postings) over the API's window for ``flt``, counting only ``ps``."""
        return [(d.isoformat(), t) for d, _, _, t in data.timeseries(ps, self.dups, self.window(flt), interval)]

    def named(self, ps, skill: str):
        return [p for p in ps if p.extraction and any(s.id == skill for s in p.extraction.skills)]


# -- endpoints: (call the API with the filter, compute the answer from the subset) -----------------
def _query(flt: PostingFilter) -> dict:
    return {
        k: (",".join(v) if isinstance(v, list) else str(v))
        for k, v in flt.model_dump(mode="json", exclude_defaults=True).items()
    }


def _body(flt: PostingFilter, **extra) -> dict:
    return {"filter": flt.model_dump(mode="json", exclude_defaults=True), **extra}


def _ok(res):
    assert res.status_code == 200, res.text
    return res


def totals(c, flt, post):
    r = (_ok(c.post("/v1/totals", json=_body(flt))) if post else _ok(c.get("/v1/totals", params=_query(flt)))).json()
    return r["total_postings"], r["unique_postings"], r["median_salary"]


def totals_want(w, flt):
    t = data.totals(w.postings, w.dups, flt)
    return t["total_postings"], t["unique_postings"], t["median_salary"]


def timeseries(c, flt, post):
    r = (
        _ok(c.post("/v1/timeseries", json=_body(flt, interval="month")))
        if post
        else _ok(c.get("/v1/timeseries", params={**_query(flt), "interval": "month"}))
    ).json()
    return [(p["period"], p["total_postings"]) for p in r["points"]]


def timeseries_want(w, flt):
    return w.series(w.subset(flt), flt)


def ranking_of(facet: str):
    """The top-50 ranking of ``facet`` (GET or POST) and its reference answer."""

    def call(c, flt, post):
        path = f"/v1/rankings/{facet}"
        r = (
            _ok(c.post(path, json=_body(flt, limit=50)))
            if post
            else _ok(c.get(path, params={**_query(flt), "limit": 50}))
        ).json()
        return [(b["key"], b["unique_postings"]) for b in r["buckets"]], r["totals"]["total_postings"]

    def want(w, flt):
        return data.ranking(w.postings, w.dups, facet, flt, "unique_postings", 50), len(w.subset(flt))

    return call, want


def ranking_series(c, flt, post):
    r = (
        _ok(c.post("/v1/rankings/levels/timeseries", json=_body(flt, limit=3)))
        if post
        else _ok(c.get("/v1/rankings/levels/timeseries", params={**_query(flt), "limit": 3}))
    ).json()
    return {s["key"]: [(p["period"], p["total_postings"]) for p in s["points"]] for s in r["series"]}


def ranking_series_want(w, flt):
    ps = w.subset(flt)
    return {
        lvl: w.series([p for p in ps if p.extraction and p.extraction.level == lvl], flt)
        for lvl, _ in data.ranking(w.postings, w.dups, "levels", flt, "unique_postings", 3)
    }


def compare(c, flt, post):
    r = (
        _ok(c.post("/v1/skills/compare", json=_body(flt, skills=[SKILL, "hive"])))
        if post
        else _ok(c.get("/v1/skills/compare", params={**_query(flt), "skills": f"{SKILL},hive"}))
    ).json()
    return {s["key"]: [(p["period"], p["total_postings"]) for p in s["points"]] for s in r["series"]}


def compare_want(w, flt):
    ps = w.subset(flt)
    return {k: w.series(w.named(ps, k), flt) for k in (SKILL, "hive")}


EMERGING_OPTS = {"min_count": 1, "alpha": 0.5, "limit": 100}


def emerging(c, flt, post):
    r = (
        _ok(c.post("/v1/skills/emerging", json=_body(flt, **EMERGING_OPTS)))
        if post
        else _ok(c.get("/v1/skills/emerging", params={**_query(flt), **EMERGING_OPTS}))
    ).json()
    skills = {(s["skill_id"], s["current"], s["previous"], round(s["p_adjusted"], 9)) for s in r["skills"]}
    return r["n_current"], r["n_previous"], r["fdr"]["tested"], skills, r


def _step_up(p_values: list[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values, by hand: p_(i) * m / i, monotone from the largest rank down."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted, running = [0.0] * len(p_values), 1.0
    for rank in range(len(p_values), 0, -1):
        running = min(running, p_values[order[rank - 1]] * len(p_values) / rank)
        adjusted[order[rank - 1]] = running
    return adjusted


def _one_sided_p(c1: int, n1: int, c0: int, n0: int) -> tuple[float, float]:
    pooled = (c1 + c0) / (n1 + n0)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    z = (c1 / n1 - c0 / n0) / se if se else 0.0
    return z, (0.5 * math.erfc(z / math.sqrt(2)) if se else 1.0)


def emerging_want(w, flt, answer):
    """Over the windows the answer names (they follow start/end only), from the subset: the counts,
    each tested skill's z-test, the Benjamini–Hochberg adjustment over the family, and the skills
    whose share grew with an adjusted p below alpha."""
    ps = [p for p in w.subset(flt.model_copy(update={"start": None, "end": None})) if p.id not in w.dups]
    now = [p for p in ps if date.fromisoformat(answer["start"]) <= posted_date(p) <= date.fromisoformat(answer["end"])]
    before = [
        p
        for p in ps
        if date.fromisoformat(answer["previous_start"]) <= posted_date(p) <= date.fromisoformat(answer["previous_end"])
    ]
    family = [
        (s, len(w.named(now, s)), len(w.named(before, s)))
        for s in sorted({s.id for p in now if p.extraction for s in p.extraction.skills})
    ]
    family = [f for f in family if f[1] >= EMERGING_OPTS["min_count"] and before]
    tests = [_one_sided_p(c1, len(now), c0, len(before)) for _, c1, c0 in family]
    adjusted = _step_up([p for _, p in tests])
    flagged = {
        (s, c1, c0, round(q, 9))
        for (s, c1, c0), (z, _), q in zip(family, tests, adjusted, strict=True)
        if z > 0 and q < EMERGING_OPTS["alpha"]
    }
    return len(now), len(before), len(family), flagged


def cooccurrence(c, flt, post):
    r = _ok(c.get("/v1/skills/cooccurrence", params={**_query(flt), "limit": 100})).json()
    return sorted(((p["skill_a"], p["skill_b"]), p["count"]) for p in r["pairs"])


def cooccurrence_want(w, flt):
    return sorted(data.cooccurrence(w.postings, w.dups, flt).items())


def skill_demand(c, flt, post):
    r = _ok(c.get(f"/v1/skills/{SKILL}", params=_query(flt))).json()
    return (
        r["totals"]["total_postings"],
        r["totals"]["unique_postings"],
        {o["code"]: o["unique_postings"] for o in r["top_occupations"]},
    )


def skill_demand_want(w, flt):
    ps = w.named(w.subset(flt), SKILL)
    unique = [p for p in ps if p.id not in w.dups]
    occ = Counter(p.extraction.occupation.code for p in unique)
    return len(ps), len(unique), dict(sorted(occ.items(), key=lambda kv: (-kv[1], kv[0]))[:5])


def skill_series(c, flt, post):
    r = _ok(c.get(f"/v1/skills/{SKILL}/timeseries", params=_query(flt))).json()
    return [(p["period"], p["total_postings"]) for p in r["points"]]


def skill_series_want(w, flt):
    return w.series(w.named(w.subset(flt), SKILL), flt)


def search(c, flt, post):
    r = (
        _ok(c.post("/v1/postings/search", json=_body(flt, size=50)))
        if post
        else _ok(c.get("/v1/postings/search", params={**_query(flt), "size": 50}))
    ).json()
    return r["total"], {h["id"] for h in r["items"]}


def search_want(w, flt, answer):
    ids = {p.id for p in w.subset(flt)}
    return len(ids), answer[1] if answer[1] <= ids and len(answer[1]) == min(50, len(ids)) else ids


def export_series(c, flt, post):
    res = (
        _ok(c.post("/v1/exports/series", json=_body(flt, dimensions=["level"], interval="month")))
        if post
        else _ok(c.get("/v1/exports/series", params={**_query(flt), "dimensions": "level", "interval": "month"}))
    )
    got: dict[str, int] = defaultdict(int)
    for row in csv.DictReader(io.StringIO(res.text)):
        got[row["level"]] += int(row["count"])
    return dict(got)


def export_series_want(w, flt):
    got: dict[str, int] = defaultdict(int)
    for p in w.subset(flt):
        got[p.extraction.level if p.extraction else ""] += 1
    return dict(got)


def export_cooccurrence(c, flt, post):
    res = _ok(c.get("/v1/exports/cooccurrence", params={**_query(flt), "limit": 1000}))
    return sorted(((r["skill_a"], r["skill_b"]), int(r["count"])) for r in csv.DictReader(io.StringIO(res.text)))


def counts(facet: str):
    def call(c, flt, post):
        r = _ok(c.get(f"/v1/counts/{facet}", params=_query(flt))).json()
        return r["total"], [(b["key"], b["count"]) for b in r["buckets"]]

    def want(w, flt):
        return len(w.subset(flt)), data.ranking(w.postings, w.dups, facet, flt, "total_postings", 100)

    return call, want


def indicator_cells(c, flt, post):
    r = _ok(c.get("/v1/indicators", params={**_query(flt), "period": "2026", "by": "occupation", "min_sample": 1}))
    return sorted((x["occupation"] or "", x["total_postings"], x["unique_postings"]) for x in r.json()["cells"])


def indicator_cells_want(w, flt):
    total: Counter[str] = Counter()
    unique: Counter[str] = Counter()
    for p in w.subset(flt):
        code = p.extraction.occupation.code if p.extraction else ""
        total[code] += 1
        unique[code] += p.id not in w.dups
    return sorted((k, total[k], unique[k]) for k in total if unique[k])


ENDPOINTS: dict[str, tuple[Callable, Callable, bool]] = {
    "GET /v1/totals": (totals, totals_want, False),
    "POST /v1/totals": (totals, totals_want, True),
    "GET /v1/timeseries": (timeseries, timeseries_want, False),
    "POST /v1/timeseries": (timeseries, timeseries_want, True),
    "GET /v1/rankings/{facet}": (*ranking_of("skills"), False),
    "POST /v1/rankings/{facet}": (*ranking_of("skills"), True),
    "GET /v1/rankings/competencies": (*ranking_of("competencies"), False),
    "POST /v1/rankings/competencies": (*ranking_of("competencies"), True),
    "GET /v1/rankings/{facet}/timeseries": (ranking_series, ranking_series_want, False),
    "POST /v1/rankings/{facet}/timeseries": (ranking_series, ranking_series_want, True),
    "GET /v1/skills/compare": (compare, compare_want, False),
    "POST /v1/skills/compare": (compare, compare_want, True),
    "GET /v1/skills/emerging": (emerging, emerging_want, False),
    "POST /v1/skills/emerging": (emerging, emerging_want, True),
    "GET /v1/skills/cooccurrence": (cooccurrence, cooccurrence_want, False),
    "GET /v1/skills/{skill}": (skill_demand, skill_demand_want, False),
    "GET /v1/skills/{skill}/timeseries": (skill_series, skill_series_want, False),
    "GET /v1/postings/search": (search, search_want, False),
    "POST /v1/postings/search": (search, search_want, True),
    "GET /v1/exports/series": (export_series, export_series_want, False),
    "POST /v1/exports/series": (export_series, export_series_want, True),
    "GET /v1/exports/cooccurrence": (export_cooccurrence, cooccurrence_want, False),
    "GET /v1/counts/occupations": (*counts("occupations"), False),
    "GET /v1/counts/levels": (*counts("levels"), False),
    "GET /v1/indicators": (indicator_cells, indicator_cells_want, False),
}
#: operations that take the filter but need more history than this world's 4 months (a forecast
#: needs 12): they read their series through ``PostingIndex.timeseries``, whose filter the
#: ``/v1/timeseries`` entries check here; ``tests/api/test_forecast.py`` checks the filter fields on
#: the forecast's history over a 30-month store
NEEDS_LONG_HISTORY = {"GET /v1/forecast", "GET /v1/indicators/seasonal"}
#: the answer-dependent references (they read the windows or the page the answer names)
_NEEDS_ANSWER = {emerging_want, search_want}


def _expected(want, w: World, flt: PostingFilter, answer):
    if want is emerging_want:
        return want(w, flt, answer[4])
    if want in _NEEDS_ANSWER:
        return want(w, flt, answer)
    return want(w, flt)


def _comparable(answer, want):
    return answer[:4] if want is emerging_want else answer


@pytest.fixture(scope="module")
def api(backend, tmp_path_factory):
    from skillsignal.server import build_app

    settings = Settings(data_dir=tmp_path_factory.mktemp("api-filters"), max_page_size=50, use_embeddings=False)
    return TestClient(build_app(settings, store=backend))


def test_every_filter_field_is_covered_and_selects_a_strict_subset(dataset):
    assert set(FIELD_VALUES) == set(PostingFilter.model_fields)
    postings, _ = dataset
    for field in FIELD_VALUES:
        n = sum(data.matches(p, _filter(field)) for p in postings)
        assert 0 < n < len(postings), (field, n)


def test_every_filter_endpoint_is_covered(api):
    """Every operation whose parameters (or body) carry the filter is in ENDPOINTS."""
    schema = api.get("/openapi.json").json()
    taking = set()
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            names = {p["name"] for p in op.get("parameters", [])}
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            ref = body.get("$ref", "").rsplit("/", 1)[-1]
            in_body = "filter" in schema["components"]["schemas"].get(ref, {}).get("properties", {})
            if {"salary_min", "occupations"} <= names or in_body:
                taking.add(f"{method.upper()} {path}")
    assert taking == set(ENDPOINTS) | NEEDS_LONG_HISTORY


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_endpoint_applies_every_filter_field(api, dataset, endpoint):
    call, want, post = ENDPOINTS[endpoint]
    w = World(*dataset)
    everything = call(api, PostingFilter(), post)
    unfiltered = _expected(want, w, PostingFilter(), everything)
    assert _comparable(everything, want) == unfiltered
    wrong = []
    for field in FIELD_VALUES:
        if (endpoint, field) in NOT_EXPRESSIBLE:
            continue
        flt = _filter(field)
        answer = call(api, flt, post)
        expected = _expected(want, w, flt, answer)
        assert expected != unfiltered, f"{field}: the chosen value does not change {endpoint}'s answer"
        if _comparable(answer, want) != expected:
            wrong.append(field)
    assert not wrong, f"{endpoint} does not apply the filter fields {wrong}"
