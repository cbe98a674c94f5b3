"""A crawl through faults: 500s, a timeout, 429 + Retry-After, malformed JSON-LD, GBK, a 5 MB
page, a 404, and a block page on a second domain. Every good posting is stored exactly once,
every fault is logged or counted, nothing crashes; the blocked domain resumes next run."""

from __future__ import annotations

import re

import pytest
from conftest import stored_ids
from sites import JobSite, make_posting

from crawlers.runner import run_crawl
from nlp.cleaning import clean_text
from storage import open_store

pytestmark = pytest.mark.slow

FAULTS = {3: "500x2", 4: "timeout", 5: "429", 6: "malformed", 7: "gbk", 8: "huge", 9: "sloppy", 11: "404"}
FAST = {"DOWNLOAD_TIMEOUT": 1.5}


def messages(caplog, level: str | None = None) -> list[str]:
    return [r.getMessage() for r in caplog.records if level is None or r.levelname == level]


def test_faulty_site_and_blocked_second_domain(crawl_settings, caplog):
    caplog.set_level("INFO")
    good = JobSite(n=20, faults=FAULTS, hang=4.0)
    other = JobSite(n=12, page_size=12, hostname="localhost", source="othersite", faults={4: "captcha"})
    with good, other:
        stats = run_crawl(
            [good.list_url, other.list_url], crawl_settings, polite=False, extract=False, scrapy_overrides=FAST
        )
        other_hits_after_block = [p for p, _ in other.detail_requests()]

    ids = stored_ids(crawl_settings)
    assert len(ids) == len(set(ids))
    assert {i for i in ids if i.startswith("testsite-")} == good.good_ids()
    assert len(good.good_ids()) == 18
    # the block: one clear warning, the domain listed, the other domain unaffected
    warning = [m for m in messages(caplog, "WARNING") if m.startswith("blocked by")]
    assert len(warning) == 1
    assert re.fullmatch(r"blocked by localhost: .*验证.*; stopping this domain; the next run resumes", warning[0])
    assert stats.blocked_domains == ["localhost"]
    assert stats.finish_reason == "finished"
    assert len(other_hits_after_block) < 12 + 1  # no retry storm against the blocking site

    # every fault shows in the stats or the log
    assert stats.http_status.get("500") == 2 and stats.http_status.get("429") == 1
    assert stats.http_status.get("404") == 1 and stats.http_errors >= 1
    assert stats.retries >= 4  # 2 x 500, 1 x 429, 1 x timeout
    assert stats.malformed_jsonld == 1
    assert any("malformed JSON-LD on" in m and "/jobs/6" in m for m in messages(caplog, "WARNING"))
    assert any(re.search(r"retrying \S+/jobs/5 \(HTTP 429\) in 1\.0s", m) for m in messages(caplog))
    assert any("retrying" in m and "/jobs/4" in m and "Timeout" in m for m in messages(caplog))
    assert stats.retry_wait_seconds >= 1.0

    store = open_store(crawl_settings)
    gbk = store.get_posting("testsite-7")
    huge = store.get_posting("testsite-8")
    sloppy = store.get_posting("testsite-9")
    store.close()
    assert gbk is not None and gbk.title == clean_text(make_posting(7, "testsite")["title"])
    assert huge is not None and sloppy is not None

    # next run: the site no longer blocks; the open generation resumes and completes the set
    caplog.clear()
    other.state.faults.clear()
    with JobSite(n=12, page_size=12, hostname="localhost", source="othersite") as again, JobSite(n=20) as first_again:
        stats2 = run_crawl([first_again.list_url, again.list_url], crawl_settings, polite=False, extract=False)
    assert stats2.resumed and stats2.blocked_domains == []
    assert {i for i in stored_ids(crawl_settings) if i.startswith("othersite-")} == again.good_ids()


def test_extraction_failure_keeps_the_raw_posting_and_records_the_error(crawl_settings):
    with JobSite(n=6) as site:
        stats = run_crawl(
            [site.list_url],
            crawl_settings,
            polite=False,
            extract=True,
            scrapy_overrides={"SKILLSIGNAL_EXTRACTOR_FACTORY": "tests.crawlers.sites:failing_extractor"},
        )
    store = open_store(crawl_settings)
    postings = list(store.iter_postings())
    store.close()
    assert len(postings) == 6 and stats.errors >= 1
    assert all(p.extraction is None and p.extraction_error for p in postings)
