"""The generic JobPosting spider, run by the real Scrapy engine (in its child process) against
local sites on 127.0.0.1, storing into a real SQLite file."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from conftest import stored_ids
from sites import JobSite, make_posting

from crawlers.runner import run_crawl
from nlp.cleaning import clean_text
from storage import open_store

pytestmark = pytest.mark.slow


def _detail_hits(site: JobSite) -> Counter:
    return Counter(p for p, _ in site.detail_requests())


def test_list_pages_every_posting_stored_once_with_its_fields(crawl_settings):
    with JobSite(n=45, page_size=10) as site:
        stats = run_crawl([site.list_url], crawl_settings, polite=False, extract=False)
        hits = _detail_hits(site)
    ids = stored_ids(crawl_settings)
    assert sorted(ids) == sorted(site.good_ids()) and len(ids) == 45
    assert stats.list_pages == 5 and stats.postings_found == 45 and stats.stored == 45
    assert stats.finish_reason == "finished" and stats.errors == 0
    assert set(hits.values()) == {1}, "a detail page was fetched more than once"

    store = open_store(crawl_settings)
    p = store.get_posting("testsite-6")
    store.close()
    src = make_posting(6, "testsite")
    assert p is not None and p.source == "testsite" and p.title == clean_text(src["title"])
    assert p.company == src["hiringOrganization"]["name"]
    assert "16000" in (p.salary.text or "") and "26000" in p.salary.text and "月" in p.salary.text
    assert "3" in (p.experience.text or "") and "年" in p.experience.text
    assert "本科" in (p.education.text or "")
    assert p.location.province and "浙江" in p.location.province and "杭州" in (p.location.city or "")
    assert p.posted_at == date(2026, 7, 7)
    assert p.employment_type == "全职"
    assert {"Python", "PyTorch", "Linux"} <= set(p.tags)
    assert "<p>" in p.description or "岗位职责" in p.description


def test_crawled_postings_go_to_the_sink_the_settings_name(crawl_settings):
    """The crawler hands postings to the PostingSink ``Settings.crawl_sink`` builds; it never
    imports the application's ingest pipeline (the default sink) itself."""
    import json

    settings = crawl_settings.model_copy(update={"crawl_sink": "tests.crawlers.sites:jsonl_sink"})
    with JobSite(n=12, page_size=5) as site:
        stats = run_crawl([site.list_url], settings, polite=False, extract=False)
    lines = (settings.data_dir / "sink.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(line)["id"] for line in lines) == sorted(site.good_ids())
    assert stats.stored == 12 and stored_ids(settings) == []


def test_sitemap_start_finds_the_same_postings(crawl_settings):
    with JobSite(n=23, faults={5: "microdata"}) as site:
        stats = run_crawl([site.sitemap_url], crawl_settings, polite=False, extract=False)
        assert site.hits["/sitemap.xml"] == 1
    assert sorted(stored_ids(crawl_settings)) == sorted(site.good_ids())
    assert stats.sitemaps == 1 and stats.stored == 23
    store = open_store(crawl_settings)
    micro = store.get_posting("testsite-5")  # read from microdata by extruct
    store.close()
    assert micro is not None and micro.title == clean_text(make_posting(5, "testsite")["title"])


def test_recrawl_sends_conditional_requests_and_stores_nothing_new(crawl_settings):
    with JobSite(n=30) as site:
        first = run_crawl([site.list_url], crawl_settings, polite=False, extract=False)
        before = len(site.detail_requests())
        second = run_crawl([site.list_url], crawl_settings, polite=False, extract=False)
        again = site.detail_requests()[before:]
        list_hits = site.hits["/jobs?page=1"]
    assert first.stored == 30
    assert len(again) == 30 and all("if-none-match" in h for _, h in again)
    assert all("if-modified-since" in h for _, h in again)
    assert second.not_modified == 30 and second.unchanged == 30 and second.stored == 0
    assert second.generation == first.generation + 1 and not second.resumed
    assert list_hits == 2, "list pages are refetched on every run"
    assert len(stored_ids(crawl_settings)) == 30


def test_ids_are_stable_when_the_site_moves_to_another_port(crawl_settings):
    """No identifier on the pages: ids come from host (no port) + URL path."""
    with JobSite(n=12, identifier=False, etags=False) as a:
        run_crawl([a.list_url], crawl_settings, polite=False, extract=False)
        port_a = a.state.port
    first = sorted(stored_ids(crawl_settings))
    with JobSite(n=12, identifier=False, etags=False) as b:
        assert b.state.port != port_a
        stats = run_crawl([b.list_url], crawl_settings, polite=False, extract=False)
    assert sorted(stored_ids(crawl_settings)) == first and len(first) == 12
    assert all(i.startswith("127.0.0.1-") for i in first)
    # without validators the pages are fetched again, and found unchanged by fingerprint
    assert stats.unchanged == 12 and stats.stored == 0 and stats.job


def test_polite_crawl_obeys_robots_and_sends_the_user_agent(crawl_settings):
    s = crawl_settings.model_copy(update={"user_agent": "SkillSignalTest/9.9"})
    fast = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}
    with JobSite(n=8) as site:
        stats = run_crawl([site.list_url], s, polite=True, extract=False, scrapy_overrides=fast)
        private = [p for p, _ in site.state.requests if p.startswith("/private/")]
        agents = {h.get("user-agent") for _, h in site.state.requests}
        robots = site.hits["/robots.txt"]
    assert robots == 1 and private == []
    assert agents == {"SkillSignalTest/9.9"}
    assert stats.stored == 8


def test_request_budget_stops_cleanly_and_the_next_run_resumes(crawl_settings, caplog):
    caplog.set_level("INFO")
    with JobSite(n=40, page_size=10) as site:
        first = run_crawl([site.list_url], crawl_settings, polite=False, max_requests=12, extract=False)
        assert first.budget_spent and first.finish_reason == "budget_spent"
        assert first.requests <= 12
        assert any("request budget of 12 spent; stopping cleanly" in r.getMessage() for r in caplog.records)
        partial = set(stored_ids(crawl_settings))
        assert 0 < len(partial) < 40
        hits_before = _detail_hits(site)
        second = run_crawl([site.list_url], crawl_settings, polite=False, extract=False)
        hits_after = _detail_hits(site)
    assert second.resumed and second.generation == first.generation
    assert second.skipped_done == len(partial)
    refetched = [p for p in hits_before if hits_after[p] > hits_before[p]]
    assert refetched == [], "pages stored before the budget ran out were fetched again"
    assert sorted(stored_ids(crawl_settings)) == sorted(site.good_ids())
