"""Postings a complete re-crawl no longer finds are closed: real Scrapy crawls (child process) of a
local site into a real SQLite file, the crawl date set through ``SKILLSIGNAL_CRAWL_DATE``."""

from __future__ import annotations

import json
import socket
from datetime import date

import pytest
from sites import JobSite

from crawlers.pipelines import incomplete_reason
from crawlers.runner import run_crawl
from storage import open_store

pytestmark = pytest.mark.slow


def _lives(settings) -> dict[str, tuple]:
    store = open_store(settings)
    try:
        return {p.id: (p.first_seen, p.last_seen, p.closed_on) for p in store.iter_postings()}
    finally:
        store.close()


def _crawl(site: JobSite, settings, day: date, **kw):
    overrides = {"SKILLSIGNAL_CRAWL_DATE": day.isoformat()}
    return run_crawl([site.list_url], settings, polite=False, extract=False, scrapy_overrides=overrides, **kw)


def test_a_complete_recrawl_closes_what_the_site_dropped_and_a_cut_one_closes_nothing(crawl_settings):
    d1, d2, d3, d4 = date(2026, 10, 1), date(2026, 10, 8), date(2026, 10, 15), date(2026, 10, 22)
    a, b, c = "testsite-1", "testsite-2", "testsite-3"
    with JobSite(n=3) as site:
        first = _crawl(site, crawl_settings, d1)
        assert first.finish_reason == "finished" and first.stored == 3
        assert _lives(crawl_settings) == dict.fromkeys([a, b, c], (d1, d1, None))

        site.state.unlisted = {3}  # the board no longer lists C
        second = _crawl(site, crawl_settings, d2)
        # A and B answered 304 (not modified): found without being read, still current
        assert second.finish_reason == "finished" and second.not_modified == 2 and second.stored == 0
        assert _lives(crawl_settings) == {a: (d1, d2, None), b: (d1, d2, None), c: (d1, d1, d1)}

        site.state.unlisted = {2}
        cut = _crawl(site, crawl_settings, d3, max_requests=2)  # the list page and one detail page
        assert cut.finish_reason == "budget_spent"
        lives = _lives(crawl_settings)
        assert lives[b] == (d1, d2, None) and lives[c] == (d1, d1, d1), "a cut crawl closed or reopened something"

        site.state.unlisted = set()  # C is back
        fourth = _crawl(site, crawl_settings, d4)
        assert fourth.finish_reason == "finished" and fourth.resumed  # it finishes the generation the cut one began
        assert _lives(crawl_settings) == dict.fromkeys([a, b, c], (d1, d4, None))


@pytest.mark.parametrize(
    ("reason", "stats", "blocked", "lost", "why"),
    [
        ("finished", {"item_scraped_count": 3}, {}, 0, None),
        ("closespider_itemcount", {}, {}, 0, "closespider_itemcount"),
        ("closespider_pagecount", {}, {}, 0, "closespider_pagecount"),
        ("shutdown", {}, {}, 0, "shutdown"),
        ("finished", {"retry/max_reached": 2}, {}, 0, "2 requests failed"),
        ("finished", {"spider_exceptions/ValueError": 1}, {}, 0, "1 pages raised"),
        ("finished", {}, {"jobs.example.com": "captcha"}, 0, "blocked by jobs.example.com"),
        ("finished", {}, {}, 4, "4 postings could not be stored"),
    ],
)
def test_only_a_crawl_run_to_its_end_without_losses_is_complete(reason, stats, blocked, lost, why):
    got = incomplete_reason(reason, stats, blocked, lost)
    assert got == why if why is None else why in got


def test_skillsignal_crawl_keep_unseen_leaves_dropped_postings_open(crawl_settings, monkeypatch):
    """The CLI's --keep-unseen (a crawl that covers only part of a source) closes nothing; the same
    re-crawl without it closes what the site dropped."""
    from typer.testing import CliRunner

    from skillsignal.cli import app

    monkeypatch.setenv("SKILLSIGNAL_USE_EMBEDDINGS", "false")
    args = ["--data-dir", str(crawl_settings.data_dir), "crawl", "--no-polite"]
    with JobSite(n=3) as site:
        assert _crawl(site, crawl_settings, date(2026, 10, 1)).stored == 3
        site.state.unlisted = {3}
        kept = CliRunner().invoke(app, [*args, "--keep-unseen", site.list_url])
        assert kept.exit_code == 0, kept.output
        assert _lives(crawl_settings)["testsite-3"][2] is None
        closed = CliRunner().invoke(app, [*args, site.list_url])
        assert closed.exit_code == 0, closed.output
        assert _lives(crawl_settings)["testsite-3"][2] == date(2026, 10, 1)


def test_skillsignal_crawl_that_reaches_nothing_fails_with_one_error_line(crawl_settings, monkeypatch):
    """Every request refused (nothing listens) or answered 404: exit 2 and an error line saying what
    to check, after the stats - not exit 0 as if the site had no postings. A site that answers with
    no posting is still a success."""
    from typer.testing import CliRunner

    from skillsignal.cli import app

    monkeypatch.setenv("SKILLSIGNAL_USE_EMBEDDINGS", "false")
    args = ["--data-dir", str(crawl_settings.data_dir), "crawl", "--no-polite"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
    refused = CliRunner().invoke(app, [*args, f"http://127.0.0.1:{port}/jobs"])
    assert refused.exit_code == 2, refused.output
    assert json.loads(refused.stdout)["download_errors"] > 0
    (line,) = [ln for ln in refused.stderr.splitlines() if ln.startswith("error:")]
    assert f"nothing could be read from http://127.0.0.1:{port}/jobs" in line and "run the same command again" in line
    with JobSite(n=2) as site:
        missing = CliRunner().invoke(app, [*args, site.list_url.replace("/jobs", "/no-such-board")])
        assert missing.exit_code == 2 and "HTTP error answers" in missing.stderr, missing.output
        site.state.unlisted = {1, 2}
        empty = CliRunner().invoke(app, [*args, site.list_url])
        assert empty.exit_code == 0, empty.output
