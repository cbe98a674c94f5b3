"""The board over real HTTP on 127.0.0.1: crawl by rel=next, JSON-LD, robots, sitemap, conditional requests."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.robotparser
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urljoin

import extruct
import httpx
import pytest
from lxml import html as lxml_html

from skillsignal.demo.board import DemoBoard


@pytest.fixture(scope="module")
def board():
    with DemoBoard(port=0) as b:
        yield b


@pytest.fixture(scope="module")
def client():
    with httpx.Client(timeout=10) as c:
        yield c


def _job_posting(page_html: str, url: str) -> dict:
    data = extruct.extract(page_html, base_url=url, syntaxes=["json-ld"], uniform=False)
    items = [i for i in data["json-ld"] if i.get("@type") == "JobPosting"]
    assert len(items) == 1
    return items[0]


def test_crawl_by_next_links_reaches_every_posting_exactly_once(board, client):
    url, seen, pages = board.list_url, [], 0
    while url:
        r = client.get(url)
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        tree = lxml_html.fromstring(r.content)
        links = tree.xpath('//ul[@class="jobs"]//a[@class="job-link"]/@href')
        assert 1 <= len(links) <= 20
        seen += [urljoin(url, h) for h in links]
        nxt = tree.xpath('//a[@rel="next"]')
        if nxt:
            assert nxt[0].text == "下一页"
            url = urljoin(url, nxt[0].get("href"))
        else:
            url = None
        pages += 1
        assert pages < 100
    expected = [board.detail_url(p.id) for p in board.postings]
    assert len(seen) == len(set(seen)) == len(board.postings)
    assert set(seen) == set(expected)
    assert pages == -(-len(board.postings) // 20)


def test_detail_json_ld_carries_the_posting(board, client):
    for p in board.postings[:: max(1, len(board.postings) // 25)]:
        url = board.detail_url(p.id)
        r = client.get(url)
        assert r.status_code == 200
        ld = _job_posting(r.text, url)
        assert ld["identifier"] == {"@type": "PropertyValue", "name": "skillsignal-demo", "value": p.id}
        assert ld["title"] == p.title
        assert ld["datePosted"] == p.posted.isoformat()
        assert ld["validThrough"] == p.valid_through.isoformat()
        assert ld["hiringOrganization"]["name"] == p.company
        addr = ld["jobLocation"]["address"]
        assert (addr["addressRegion"], addr["addressLocality"]) == (p.province, p.city)
        assert p.district in addr["streetAddress"]
        assert ld["experienceRequirements"] == p.experience
        assert ld["educationRequirements"] == p.education
        assert ld["industry"] == p.industry
        assert ld["skills"] == list(p.tags)
        assert ld["salaryText"] == p.salary
        assert ld["employmentType"] == ("INTERN" if p.employment_type == "实习" else "FULL_TIME")
        text = lxml_html.fromstring(ld["description"]).text_content()
        for line in p.description.split("\n"):
            assert line in text
        value = ld["baseSalary"].get("value")
        if p.salary_min is None:
            assert value is None
        else:
            assert (value["minValue"], value["maxValue"], value["unitText"]) == (
                p.salary_min,
                p.salary_max,
                p.salary_unit,
            )
        # the visible page says the same
        tree = lxml_html.fromstring(r.content)
        assert tree.xpath("string(//h1)") == p.title
        assert tree.xpath('string(//dd[@data-field="salary"])') == p.salary


def test_json_ld_survives_a_description_with_markup():
    from skillsignal.demo.pages import render_detail

    p = DemoBoard(port=0).postings[0].model_copy(update={"description": "岗位职责：\n熟悉</script><b>HTML</b>"})
    ld = _job_posting(render_detail(p, "http://x"), "http://x/")
    assert "&lt;/script&gt;" in ld["description"]


def test_robots_allows_jobs_and_disallows_admin(board, client):
    r = client.get(board.url + "/robots.txt")
    assert r.status_code == 200 and r.headers["content-type"] == "text/plain; charset=utf-8"
    rp = urllib.robotparser.RobotFileParser()
    rp.parse(r.text.splitlines())
    assert rp.can_fetch("SkillSignalBot", board.list_url)
    assert rp.can_fetch("SkillSignalBot", board.detail_url(board.postings[0].id))
    assert not rp.can_fetch("SkillSignalBot", board.url + "/admin/stats")
    assert rp.site_maps() == [board.sitemap_url]
    assert client.get(board.url + "/admin").status_code == 403


def test_sitemap_lists_every_detail_page_with_lastmod(board, client):
    r = client.get(board.sitemap_url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    root = ET.fromstring(r.content)
    entries = {
        u.findtext("s:loc", namespaces=ns): u.findtext("s:lastmod", namespaces=ns) for u in root.findall("s:url", ns)
    }
    assert entries == {board.detail_url(p.id): p.posted.isoformat() for p in board.postings}


@pytest.mark.parametrize(
    "path", ["/jobs?page=1", "/jobs?page=3", "/jobs/demo-0007.html", "/sitemap.xml", "/robots.txt"]
)
def test_conditional_requests_answer_304(board, client, path):
    r = client.get(board.url + path)
    etag, modified = r.headers["etag"], r.headers["last-modified"]
    same = client.get(board.url + path, headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == etag
    assert client.get(board.url + path, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get(board.url + path, headers={"If-Modified-Since": modified}).status_code == 304
    earlier = format_datetime(datetime(2026, 7, 1, tzinfo=UTC), usegmt=True)
    assert client.get(board.url + path, headers={"If-Modified-Since": earlier}).status_code == 200
    # If-None-Match wins over If-Modified-Since
    both = client.get(board.url + path, headers={"If-None-Match": '"other"', "If-Modified-Since": modified})
    assert both.status_code == 200


def test_detail_last_modified_is_the_posting_date(board, client):
    p = board.postings[7]
    r = client.get(board.detail_url(p.id))
    assert r.headers["last-modified"] == format_datetime(
        datetime(p.posted.year, p.posted.month, p.posted.day, tzinfo=UTC), usegmt=True
    )


def test_bad_pages_and_unknown_paths(board, client):
    last = -(-len(board.postings) // 20)
    assert client.get(f"{board.url}/jobs?page={last + 1}").status_code == 404
    assert client.get(f"{board.url}/jobs?page=0").status_code == 404
    assert client.get(f"{board.url}/jobs?page=x").status_code == 400
    assert client.get(f"{board.url}/jobs/demo-9999.html").status_code == 404
    assert client.get(f"{board.url}/nothing").status_code == 404
    assert client.get(f"{board.url}/jobs").text == client.get(board.list_url).text
    head = client.head(board.list_url)
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 1000


def test_close_stops_serving_and_start_again_on_a_new_port():
    b = DemoBoard(port=0)
    assert b.postings and b.port == 0
    b.start()
    url = b.list_url
    assert httpx.get(url, timeout=5).status_code == 200
    b.close()
    with pytest.raises(httpx.TransportError):
        httpx.get(url, timeout=2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_command_line_entry_serves_the_board():
    out = subprocess.run(
        [sys.executable, "-m", "skillsignal.demo.board", "--help"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and "--port" in out.stdout
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "skillsignal.demo.board", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/jobs?page=1", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "board did not start"
                time.sleep(0.2)
        assert r.status_code == 200
        assert re.search(r'href="/jobs/demo-\d{4}\.html"', r.text)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
