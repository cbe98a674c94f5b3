"""The dashboard's catalogue tab in headless Chromium against a real API server on 127.0.0.1 over a
generated 24-month history in a real SQLite store: the table is the catalogue signals.catalogue
builds from that store (default period: the latest quarter with postings), ratings coloured, the
region filter narrows it, a bad period shows the API's message, the file links download."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from signals.catalogue import build_catalogue
from skill_taxonomy import default_taxonomy
from tests.api.catalogue_history import PLANTED, generated_history
from tests.live_server import serve

from .browser import OUTPUT, dashboard_page

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from skillsignal.core.config import Settings
    from skillsignal.server import build_app
    from storage import SQLiteStore

    settings = Settings(data_dir=tmp_path_factory.mktemp("dash-catalogue") / "data")
    settings.ensure_dirs()
    store = SQLiteStore(settings.db_path)
    store.upsert_postings(generated_history(per_cell=8))
    with serve(build_app(settings)) as base:
        yield base, store
    store.close()


@pytest.fixture(scope="module")
def page(served):
    base, _ = served
    with dashboard_page(f"{base}/dashboard#catalogue") as pg:
        yield pg


def table_ready(pg) -> None:
    pg.wait_for_function(
        "['ready', 'empty', 'error'].includes(document.getElementById('table-catalogue').dataset.state)",
        timeout=30_000,
    )


def shown(pg) -> list[tuple[str, str, str]]:
    return [
        tuple(r)
        for r in pg.evaluate(
            """() => [...document.querySelectorAll('#table-catalogue tbody tr')].map(
                tr => [tr.dataset.occupation, tr.dataset.level, tr.dataset.rating])"""
        )
    ]


def want(store, **kw) -> list[tuple[str, str, str]]:
    cat = build_catalogue(store, default_taxonomy(), "2026Q3", **kw)
    return [(e.indicators.occupation, e.indicators.level or "", e.rating.label) for e in cat.entries]


def test_the_tab_shows_the_latest_quarters_catalogue_with_ratings_coloured(page, served):
    _, store = served
    # the #catalogue hash opens the tab once the dashboard's script has run: wait for it, not for load
    page.wait_for_selector("#view-catalogue", state="visible", timeout=30_000)
    assert not page.is_visible("#view-overview")
    table_ready(page)
    assert page.get_attribute("#table-catalogue", "data-state") == "ready"
    assert page.input_value("#cat-period") == "2026Q3"  # the latest quarter with postings
    rows = shown(page)
    assert rows == want(store)
    assert "需求紧张度" in page.inner_text("#cat-measure")
    colours = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#table-catalogue .rating')].map(
            b => [b.closest('tr').dataset.rating, getComputedStyle(b).backgroundColor]))"""
    )
    assert {"normal", "suppressed"} <= set(colours)
    assert len(set(colours.values())) == len(colours)  # each rating its own colour
    assert not page.errors


def test_the_region_filter_narrows_the_catalogue(page, served):
    _, store = served
    page.select_option("#f-region", "east")
    page.wait_for_function(
        "document.getElementById('cat-title').textContent.includes('东部') && "
        "document.getElementById('table-catalogue').dataset.state === 'ready'",
        timeout=30_000,
    )
    rows = shown(page)
    assert rows == want(store, region="east")
    assert rows[0][0] == PLANTED[0] and rows[0][2] == "critical"  # the planted tightening leads
    first = page.inner_text("#table-catalogue tbody tr:first-child")
    assert "人工智能工程技术人员" in first and "紧缺" in first
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "dashboard-catalogue.png"), full_page=True)
    # the download links carry the same question
    href = page.evaluate("() => document.getElementById('cat-xlsx').href")  # absolute
    assert "period=2026Q3" in href and "region=east" in href and "format=xlsx" in href
    res = page.request.get(href)
    assert res.ok
    sheet = load_workbook(io.BytesIO(res.body()))["catalogue"]
    assert sheet.max_row == 1 + len(rows)


def test_a_bad_period_shows_the_apis_message(page):
    page.fill("#cat-period", "2026Q5")
    page.dispatch_event("#cat-period", "change")
    page.wait_for_function("document.getElementById('table-catalogue').dataset.state === 'error'", timeout=30_000)
    assert "422" in page.inner_text(".card:has(#table-catalogue) .state")
    page.fill("#cat-period", "2026Q2")
    page.dispatch_event("#cat-period", "change")
    page.wait_for_function("document.getElementById('table-catalogue').dataset.state === 'ready'", timeout=30_000)
    assert page.inner_text("#cat-title").startswith("2026Q2")


def test_the_overview_tab_comes_back(page):
    page.wait_for_selector("#view-catalogue", state="visible", timeout=30_000)  # the script is up
    page.click("#tab-overview")
    page.wait_for_selector("#view-overview", state="visible", timeout=30_000)
    assert not page.is_visible("#view-catalogue")
    page.wait_for_function("document.getElementById('chart-provinces').dataset.state === 'ready'", timeout=30_000)
    assert page.evaluate("() => window.location.hash") == ""
    page.click("#tab-catalogue")
    page.wait_for_selector("#view-catalogue", state="visible", timeout=30_000)
    assert not page.errors
