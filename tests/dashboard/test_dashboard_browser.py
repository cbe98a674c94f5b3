"""The dashboard in headless Chromium (Debian's package, driven by Playwright) against a real
API server on 127.0.0.1 with known data: charts show those numbers, a filter changes them,
the language switch works, and a screenshot is saved under test-output/."""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, timedelta

import pytest

from skillsignal.core.models import CompetencyMatch, Extraction, Location, OccupationMatch, Posting, SkillMatch
from tests.live_server import serve

from .browser import OUTPUT, dashboard_page

pytestmark = pytest.mark.slow


# occupation -> (province, skills) and per-month counts: the numbers the charts must show
PLAN = {
    "2-02-38-01": ("江苏", ("pytorch", "python"), {"2026-08": 6, "2026-09": 9, "2026-10": 12}),
    "2-02-38-09": ("上海", ("verilog",), {"2026-08": 4, "2026-09": 4, "2026-10": 5}),
    "2-02-38-03": ("广东", ("spark", "python"), {"2026-08": 3, "2026-09": 2, "2026-10": 7}),
    # new in October: the one skill whose rise is significant after the FDR control
    "2-02-38-02": ("北京", ("kubernetes",), {"2026-10": 10}),
}
LEVELS = ("初级", "中级", "高级")
# occupation -> competency statements: every posting names the first, every third also the second
COMPETENCIES = {"2-02-38-01": ("ai.j.1.1", "ai.m.1.1"), "2-02-38-09": ("ic.j.1.1", "ic.m.1.1")}


def known_postings() -> list[Posting]:
    out = []
    for occ, (province, skills, months) in PLAN.items():
        for month, n in months.items():
            y, m = map(int, month.split("-"))
            for i in range(n):
                out.append(
                    Posting(
                        id=f"{occ}-{month}-{i}",
                        source="fixture",
                        title="工程师",
                        posted_at=date(y, m, 1 + i),
                        location=Location(province=province, city=province, region="east"),
                        extraction=Extraction(
                            occupation=OccupationMatch(code=occ, name=occ),
                            level=LEVELS[i % 3],
                            skills=[SkillMatch(id=s, name=s) for s in skills],
                            competencies=[
                                CompetencyMatch(id=c, text=c) for c in COMPETENCIES.get(occ, ())[: 1 + (i % 3 == 0)]
                            ],
                            taxonomy_version="t",
                            extractor_version="e",
                        ),
                    )
                )
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from skillsignal.core.config import Settings
    from skillsignal.server import build_app
    from storage import SQLiteStore

    settings = Settings(data_dir=tmp_path_factory.mktemp("dash") / "data")
    settings.ensure_dirs()
    SQLiteStore(settings.db_path).upsert_postings(known_postings())
    with serve(build_app(settings)) as base:
        yield base


@pytest.fixture(scope="module")
def page(server):
    with dashboard_page(f"{server}/dashboard") as pg:
        yield pg


def wait_ready(pg, chart_id: str) -> None:
    pg.wait_for_function(
        f"document.getElementById('{chart_id}').dataset.state && "
        f"document.getElementById('{chart_id}').dataset.state !== 'loading'",
        timeout=20_000,
    )


def series_data(pg, chart_id: str) -> dict[str, list[float]]:
    return pg.evaluate(
        f"""() => {{
            const c = echarts.getInstanceByDom(document.getElementById('{chart_id}'));
            const o = c.getOption();
            return Object.fromEntries(o.series.map(s => [s.name || '', s.data]));
        }}"""
    )


def test_charts_show_the_known_numbers(page):
    for chart in ("chart-occupations", "chart-levels", "chart-provinces", "chart-skills"):
        wait_ready(page, chart)
        assert page.get_attribute(f"#{chart}", "data-state") == "ready", chart

    occ = series_data(page, "chart-occupations")
    names = page.evaluate("() => window.skillsignalDashboard.state.occupations.map(o => [o.code, o.name_zh])")
    name_of = dict(names)
    for code, (_, _, months) in PLAN.items():
        assert occ[name_of.get(code, code)] == [months.get(m, 0) for m in ("2026-08", "2026-09", "2026-10")]

    levels = series_data(page, "chart-levels")
    level_total = Counter()
    for p in known_postings():
        level_total[p.extraction.level] += 1
    assert {k: sum(v) for k, v in levels.items()} == dict(level_total)

    provinces = series_data(page, "chart-provinces")[""]
    assert sorted(provinces, reverse=True) == sorted([sum(m.values()) for _, _, m in PLAN.values()], reverse=True)
    assert page.inner_text("#kpi-total") == str(len(known_postings()))
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "dashboard.png"), full_page=True)
    assert not page.errors


def windows() -> tuple[list[Posting], list[Posting]]:
    """The postings of the later half of the stored days and of the half before (the emerging-skills
    default windows for a history shorter than 180 days)."""
    posts = known_postings()
    days = sorted(p.posted_at for p in posts)
    length = min(90, ((days[-1] - days[0]).days + 1) // 2)
    end = days[-1]
    start = end - timedelta(days=length - 1)
    prev_end, prev_start = start - timedelta(days=1), start - timedelta(days=length)
    now = [p for p in posts if start <= p.posted_at <= end]
    before = [p for p in posts if prev_start <= p.posted_at <= prev_end]
    return now, before


def naming(posts: list[Posting], skill: str) -> int:
    return sum(any(s.id == skill for s in p.extraction.skills) for p in posts)


def expected_top_skill_growth() -> dict[str, float | None]:
    """Growth of each skill's share over the emerging-skills windows."""
    now, before = windows()
    out: dict[str, float | None] = {}
    for skill in {s.id for p in known_postings() for s in p.extraction.skills}:
        c1, c0 = naming(now, skill), naming(before, skill)
        out[skill] = (c1 / len(now)) / (c0 / len(before)) - 1 if c0 else None
    return out


def expected_emerging(min_count: int = 3, q: float = 0.05) -> list[tuple[str, float, bool]]:
    """(skill, share change in points, significant) for each skill whose share grew, sorted by the
    change: one-sided pooled z-test per skill with min_count postings now, Benjamini–Hochberg by hand."""
    now, before = windows()
    family = []
    for skill in sorted({s.id for p in now for s in p.extraction.skills}):
        c1, c0 = naming(now, skill), naming(before, skill)
        if c1 < min_count:
            continue
        pooled = (c1 + c0) / (len(now) + len(before))
        z = (c1 / len(now) - c0 / len(before)) / math.sqrt(pooled * (1 - pooled) * (1 / len(now) + 1 / len(before)))
        family.append((skill, c1 / len(now) - c0 / len(before), z, 0.5 * math.erfc(z / math.sqrt(2))))
    order = sorted(range(len(family)), key=lambda i: family[i][3])
    adjusted, running = [1.0] * len(family), 1.0
    for rank in range(len(family), 0, -1):
        running = min(running, family[order[rank - 1]][3] * len(family) / rank)
        adjusted[order[rank - 1]] = running
    grew = [(s, round(d * 1000) / 10, a < q) for (s, d, z, _), a in zip(family, adjusted, strict=True) if z > 0]
    return sorted(grew, key=lambda g: (-g[1], g[0]))


def test_top_skills_show_counts_and_growth(page):
    wait_ready(page, "chart-skills")
    rows = page.evaluate("() => window.skillsignalDashboard.state.shown['chart-skills'].rows")
    counts = Counter(s.id for p in known_postings() for s in p.extraction.skills)
    assert {r[0]: r[2] for r in rows} == dict(counts)
    growth = expected_top_skill_growth()
    assert any(g is not None for g in growth.values())
    for key, _, _, shown in rows:
        if growth[key] is None:
            assert shown == ""
        else:
            assert shown == pytest.approx(growth[key], abs=1e-9), key


def test_a_filter_changes_every_chart(page):
    page.select_option("#f-occupation", "2-02-38-09")
    page.wait_for_function("document.getElementById('kpi-total').textContent === '13'", timeout=20_000)
    for chart in ("chart-occupations", "chart-provinces", "chart-levels"):
        wait_ready(page, chart)
    occ = series_data(page, "chart-occupations")
    assert list(occ.values()) == [[4, 4, 5]]
    assert series_data(page, "chart-provinces")[""] == [13]
    page.select_option("#f-occupation", "")
    page.wait_for_function(
        f"document.getElementById('kpi-total').textContent === '{len(known_postings())}'", timeout=20_000
    )


def test_competency_panel_shows_the_selected_occupations_statements(page):
    from skill_taxonomy import default_taxonomy

    text = {
        c.id: (c.text, lv)
        for occ in default_taxonomy().occupations.values()
        for lv, cs in occ.levels.items()
        for c in cs
    }
    wait_ready(page, "table-competencies")
    assert page.get_attribute("#table-competencies", "data-state") == "empty"  # no occupation chosen
    assert "选择一个职业" in page.inner_text(".card:has(#table-competencies) .state")
    for occ, prefix in (("2-02-38-01", "ai."), ("2-02-38-09", "ic.")):
        page.select_option("#f-occupation", occ)
        page.wait_for_function(
            "document.getElementById('table-competencies').dataset.state === 'ready' && "
            f"document.querySelector('#table-competencies tr[data-competency^=\"{prefix}\"]') !== null",
            timeout=20_000,
        )
        rows = page.evaluate("""() => [...document.querySelectorAll('#table-competencies tbody tr')].map(
            tr => [tr.dataset.competency, ...[...tr.cells].map(td => td.textContent)])""")
        posts = [p for p in known_postings() if p.extraction.occupation.code == occ]
        want = Counter(c.id for p in posts for c in p.extraction.competencies)
        assert [r[0] for r in rows] == [k for k, _ in sorted(want.items(), key=lambda kv: (-kv[1], kv[0]))]
        for key, statement, level, _function, count, share in rows:
            assert statement == text[key][0] and level == text[key][1]
            assert int(count) == want[key]
            assert share == f"{100 * want[key] / len(posts):.1f}%"
    page.select_option("#f-occupation", "")
    page.wait_for_function("document.getElementById('table-competencies').dataset.state === 'empty'", timeout=20_000)
    assert not page.errors


def test_emerging_bars_are_sorted_by_change_and_noise_is_grey(page):
    wait_ready(page, "chart-emerging")
    rows = page.evaluate("() => window.skillsignalDashboard.state.shown['chart-emerging'].rows")
    want = expected_emerging()
    assert any(sig for *_, sig in want) and not all(sig for *_, sig in want)  # both kinds are drawn
    assert [(r[0], r[4], r[6]) for r in rows] == want
    bars = page.evaluate(
        """() => echarts.getInstanceByDom(document.getElementById('chart-emerging')).getOption()
            .series[0].data.map(d => [d.value, d.itemStyle.color]).reverse()"""
    )  # top to bottom
    assert [v for v, _ in bars] == [change for _, change, _ in want]
    assert [c for _, c in bars] == ["#2563eb" if sig else "#c0c4cc" for *_, sig in want]


def monthly(skill: str, occupation: str | None = None) -> list[int]:
    got = Counter()
    for occ, (_, skills, months) in PLAN.items():
        if skill in skills and occupation in (None, occ):
            got.update(months)
    return [got[m] for m in ("2026-08", "2026-09", "2026-10")]


def top_skills(occupation: str | None = None, n: int = 3) -> list[str]:
    counts = Counter(
        s.id
        for p in known_postings()
        if occupation in (None, p.extraction.occupation.code)
        for s in p.extraction.skills
    )
    return [k for k, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def compared(pg) -> dict[str, list[int]]:
    """skill id -> the series the comparison chart draws for it (once the chart is ready)."""
    pg.wait_for_function("document.getElementById('chart-compare').dataset.state === 'ready'", timeout=20_000)
    ids = pg.evaluate("() => [...document.querySelectorAll('#skill-chips .chip')].map(c => c.dataset.skill)")
    series = pg.evaluate(
        """() => echarts.getInstanceByDom(document.getElementById('chart-compare')).getOption().series.map(s => s.data)"""
    )
    return dict(zip(ids, series, strict=True))


def wait_chips(pg, ids: list[str]) -> None:
    pg.wait_for_function(
        "[...document.querySelectorAll('#skill-chips .chip')].map(c => c.dataset.skill).join(',') === "
        f"'{','.join(ids)}' && document.getElementById('chart-compare').dataset.state === 'ready'",
        timeout=20_000,
    )


def test_skill_compare_starts_from_the_filters_top_skills(page):
    start = top_skills()
    assert start == ["python", "pytorch", "verilog"]
    wait_chips(page, start)
    assert compared(page) == {k: monthly(k) for k in start}
    # a filter change brings that filter's top skills
    page.select_option("#f-occupation", "2-02-38-03")
    wait_chips(page, top_skills("2-02-38-03"))
    assert compared(page) == {k: monthly(k, "2-02-38-03") for k in top_skills("2-02-38-03")}
    page.select_option("#f-occupation", "")
    wait_chips(page, start)
    # once the user removes or picks a skill, the choice is kept across filter changes
    page.click("#skill-chips .chip[data-skill='python'] button")
    wait_chips(page, ["pytorch", "verilog"])
    page.fill("#skill-query", "kubernetes")
    page.wait_for_selector("#skill-suggestions li[data-skill='kubernetes']", timeout=20_000)
    page.click("#skill-suggestions li[data-skill='kubernetes']")
    wait_chips(page, ["pytorch", "verilog", "kubernetes"])
    assert compared(page) == {k: monthly(k) for k in ("pytorch", "verilog", "kubernetes")}
    page.select_option("#f-occupation", "2-02-38-09")
    page.wait_for_function("document.getElementById('kpi-total').textContent === '13'", timeout=20_000)
    wait_chips(page, ["pytorch", "verilog", "kubernetes"])
    assert compared(page) == {"pytorch": [0, 0, 0], "verilog": monthly("verilog"), "kubernetes": [0, 0, 0]}
    page.select_option("#f-occupation", "")
    page.wait_for_function(
        f"document.getElementById('kpi-total').textContent === '{len(known_postings())}'", timeout=20_000
    )
    assert not page.errors


def test_language_switch(page):
    page.click("#lang-switch")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.inner_text("h1 span") == "Digital talent demand"
    page.click("#lang-switch")
    page.wait_for_function("document.documentElement.lang === 'zh-CN'")


def test_csv_download_holds_what_is_shown(page, tmp_path):
    with page.expect_download() as info:
        page.click("#download-csv")
    path = tmp_path / "shown.csv"
    info.value.save_as(path)
    text = path.read_text(encoding="utf-8-sig")
    assert "chart-occupations" in text and "chart-provinces" in text
    assert "2-02-38-01" in text


def test_empty_state_when_nothing_matches(page):
    page.fill("#f-start", "2030-01-01")
    page.dispatch_event("#f-start", "change")
    page.wait_for_function("document.getElementById('chart-provinces').dataset.state === 'empty'", timeout=20_000)
    assert "暂无数据" in page.inner_text("main")
    page.fill("#f-start", "")
    page.dispatch_event("#f-start", "change")
