"""Board adapters on fixtures the project wrote from the boards' documented field names
(invented companies and texts), and the thin board spiders crawling a local server that serves
those fixtures (real Scrapy crawls in a child process, never a real board)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from crawlers.adapters import BoardBlocked, BoardFormatError, boss, job51, liepin, to_postings, zhaopin
from skillsignal.core.models import Posting
from skillsignal.core.records import RecordError

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


# -- adapters ------------------------------------------------------------------------------
def test_boss_list_and_detail():
    records, has_more = boss.parse_list(fixture("boss_list_page1.json"))
    assert has_more and len(records) == 2
    r = records[0]
    assert r["id"] == "boss-a1b2c3d4e5f6a7b8" and r["url"].endswith("/job_detail/a1b2c3d4e5f6a7b8.html")
    assert (r["title"], r["company"], r["city"], r["district"]) == ("大模型算法工程师", "澄明智算", "北京", "海淀区")
    assert (r["salary"], r["experience"], r["education"]) == ("30-50K·15薪", "3-5年", "硕士")
    assert (r["industry"], r["company_size"]) == ("人工智能", "100-499人")
    assert r["tags"][:3] == ["PyTorch", "Transformer", "分布式训练"]  # employer skill tags first
    full = boss.parse_detail(fixture("boss_detail_a1b2c3d4e5f6a7b8.html"), r)
    assert full["description"].splitlines()[0] == "岗位职责："
    assert "DeepSpeed" in full["description"] and "RLHF" in full["tags"]
    (p,) = to_postings([full])
    assert isinstance(p, Posting) and p.source == "boss" and p.tags[0] == "PyTorch"
    page2, more = boss.parse_list(fixture("boss_list_page2.json"), base_url="http://127.0.0.1:1")
    assert not more and page2[0]["url"] == "http://127.0.0.1:1/job_detail/e1f2a3b4c5d6e7f8.html"
    detail = boss.parse_detail(fixture("boss_detail_e1f2a3b4c5d6e7f8.html"), page2[0])
    assert detail["description"].splitlines()[:2] == [
        "工作内容：",
        "1. 负责ARM平台Linux内核裁剪与驱动开发（I2C、SPI、USB）；",
    ]


def test_boss_blocks_and_format_errors():
    with pytest.raises(BoardBlocked, match="37"):
        boss.parse_list(fixture("boss_blocked.json"))
    with pytest.raises(BoardBlocked):
        boss.parse_list(fixture("boss_verify.html"))
    with pytest.raises(BoardBlocked):
        boss.parse_detail(fixture("boss_verify.html"))
    with pytest.raises(BoardFormatError):
        boss.parse_list('{"code": 0, "zpData": {}}')
    with pytest.raises(BoardFormatError):
        boss.parse_detail("<html><body><p>改版后的页面</p></body></html>")


def test_51job_old_search_shape():
    records, pages = job51.parse_search(fixture("51job_search_old.json"))
    assert pages == 1 and len(records) == 3
    r = records[0]
    assert (r["id"], r["city"], r["district"]) == ("51job-130000001", "杭州", "余杭区")
    assert (r["experience"], r["education"], r["salary"]) == ("5-7年经验", "本科", "2-3.5万/月")
    assert r["posted"] == "2026-03-04" and r["tags"] == ["五险一金", "弹性工作"]
    assert r["description"].startswith("岗位职责：") and "\n任职要求：" in r["description"]
    assert records[1]["posted"] is None  # "03-05" carries no year: dropped, the record kept
    results = list(to_postings(records))
    assert [type(x) for x in results] == [Posting, Posting, RecordError]
    assert "title" in str(results[2])


def test_51job_api_shape():
    records, pages = job51.parse_search(fixture("51job_search_api.json"))
    assert pages == 2 and [r["id"] for r in records] == ["51job-150000011", "51job-150000012"]
    a, b = records
    assert (a["company"], a["city"], a["district"]) == ("远帆软件（苏州）有限公司", "苏州", "工业园区")
    assert a["tags"] == ["MES", "OPC UA", "边缘计算", "五险一金"]
    assert (
        a["description"]
        == "职责：负责工厂设备接入与数据采集方案实施，完成MES与平台对接。\n要求：熟悉OPC UA、Modbus协议，具备现场调试经验。"
    )
    assert (b["salary"], b["tags"], b["posted"]) == ("25-40K", ["Solidity", "以太坊"], "2026-03-01")
    with pytest.raises(BoardFormatError):
        job51.parse_search('{"something": "else"}')


def test_zhaopin_positions():
    records, total = zhaopin.parse_positions(fixture("zhaopin_search.json"))
    assert total == 2
    a, b = records
    assert (a["company"], a["company_size"], a["city"], a["district"]) == (
        "盾石信息安全有限公司",
        "100-499人",
        "南京",
        "建邺区",
    )
    assert (a["experience"], a["education"], a["posted"]) == ("3-5年", "本科", "2026-03-02")
    assert a["tags"] == ["数据脱敏", "DLP", "五险一金", "年底双薪"]
    assert (b["company"], b["city"], b["experience"], b["posted"]) == ("镜界互动", "成都", "1-3年", "2026-03-03")
    one, _ = zhaopin.parse_positions(
        json.dumps({"code": 200, "data": json.loads(fixture("zhaopin_search.json"))["data"]["results"][1]})
    )
    assert one[0]["title"] == "虚拟现实交互开发"
    with pytest.raises(BoardBlocked):
        zhaopin.parse_positions('{"code": 403, "message": "访问受限"}')


def test_liepin_detail():
    r = liepin.parse_detail(fixture("liepin_detail_55501234.html"), "https://www.liepin.com/job/55501234.shtml")
    assert (r["id"], r["title"], r["company"], r["salary"]) == (
        "liepin-55501234",
        "集成电路验证工程师",
        "芯衡半导体",
        "40-60k·14薪",
    )
    assert (r["city"], r["district"], r["experience"], r["education"]) == ("上海", "浦东新区", "5-10年", "硕士")
    assert (r["industry"], r["company_size"]) == ("集成电路/芯片", "500-999人")
    assert r["tags"] == ["UVM", "SystemVerilog", "芯片验证"]
    assert r["description"].splitlines()[1].startswith("1. 负责SoC")
    with pytest.raises(BoardFormatError):
        liepin.parse_detail("<html><body><h1>只有标题</h1></body></html>")


def test_one_job_on_two_boards_is_one_unique_posting(tmp_path):
    from skillsignal.dedup import Deduper
    from storage import SQLiteStore

    boss_records, _ = boss.parse_list(fixture("boss_list_page1.json"))
    on_boss = boss.parse_detail(fixture("boss_detail_c9d8e7f6a5b4c3d2.html"), boss_records[1])
    on_51job = job51.parse_search(fixture("51job_search_old.json"))[0][0]
    others = boss_records[:1] + job51.parse_search(fixture("51job_search_api.json"))[0]
    postings = [p for p in to_postings([on_boss, on_51job, *others]) if isinstance(p, Posting)]
    store = SQLiteStore(tmp_path / "boards.sqlite3")
    store.upsert_postings(postings)
    deduper = Deduper(store, store.path)
    deduper.update(postings)
    # the 51job copy is dated (2026-03-04); the BOSS list gives no date, so 51job's is canonical
    assert deduper.clusters() == {"51job-130000001": ["boss-c9d8e7f6a5b4c3d2"]}
    assert store.count_postings() == 5 and store.count_postings(unique_only=True) == 4
    store.close()


# -- spiders against a local server ------------------------------------------------------
class BoardSite:
    """Serves the fixtures at the boards' paths on 127.0.0.1; ``block_page`` makes BOSS list page N a block."""

    def __init__(self, block_page: int | None = None):
        self.block_page = block_page
        self.paths: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                site.paths.append(self.path)
                body, ctype = site.route(self.path)
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = body.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", f"{ctype}; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def route(self, path: str) -> tuple[str | None, str]:
        parts = urlsplit(path)
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/wapi/zpgeek/search/joblist.json":
            page = int(q.get("page", 1))
            if page == self.block_page:
                return fixture("boss_blocked.json"), "application/json"
            return (fixture(f"boss_list_page{page}.json") if page in (1, 2) else None), "application/json"
        if parts.path.startswith("/job_detail/"):
            name = FIXTURES / f"boss_detail_{parts.path.rsplit('/', 1)[1].removesuffix('.html')}.html"
            return (name.read_text(encoding="utf-8") if name.exists() else None), "text/html"
        if parts.path == "/api/job/search-pc":
            if q.get("pageNum") == "1":
                return fixture("51job_search_api.json"), "application/json"
            return json.dumps(
                {
                    "status": "1",
                    "resultbody": {
                        "job": {
                            "totalCount": 3,
                            "pageSize": 2,
                            "items": [
                                {
                                    "jobId": "150000013",
                                    "jobName": "数字孪生工程师",
                                    "companyName": "远帆软件",
                                    "jobAreaString": "苏州",
                                    "jobDescribe": "搭建产线数字孪生模型。",
                                }
                            ],
                        }
                    },
                },
                ensure_ascii=False,
            ), "application/json"
        if parts.path == "/c/i/sou":
            return fixture("zhaopin_search.json"), "application/json"
        if parts.path == "/zhaopin/":
            if q.get("currentPage") == "0":
                return '<html><body><a href="/job/55501234.shtml">集成电路验证工程师</a></body></html>', "text/html"
            return "<html><body>没有更多职位</body></html>", "text/html"
        if parts.path == "/job/55501234.shtml":
            return fixture("liepin_detail_55501234.html"), "text/html"
        return None, "text/plain"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


RUNNER = r"""
import json, sys
from scrapy.crawler import CrawlerProcess
from crawlers.settings import build_settings
from crawlers.spiders.boards import SPIDERS
from skillsignal.core.config import Settings

name, base_url, data_dir, feed, stats_path = sys.argv[1:6]
settings = build_settings(Settings(data_dir=data_dir), polite=False, overrides={
    "ITEM_PIPELINES": {"crawlers.pipelines.ValidatePipeline": 300},
    "FEEDS": {feed: {"format": "jsonlines", "fields": ["record", "url"], "encoding": "utf-8"}},
    "ROBOTSTXT_OBEY": False, "LOG_LEVEL": "WARNING",
})
process = CrawlerProcess(settings)
crawler = process.create_crawler(SPIDERS[name])
process.crawl(crawler, base_url=base_url, keyword="工程师", max_pages=5)
process.start()
json.dump({k: str(v) for k, v in crawler.stats.get_stats().items()}, open(stats_path, "w"))
"""


def crawl(name: str, site: BoardSite, tmp_path: Path) -> tuple[list[dict], dict]:
    feed, stats = tmp_path / f"{name}.jsonl", tmp_path / f"{name}-stats.json"
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, name, site.url, str(tmp_path / "data"), feed.as_uri(), str(stats)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    items = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines()] if feed.exists() else []
    return items, json.loads(stats.read_text())


@pytest.fixture
def site():
    s = BoardSite()
    yield s
    s.close()


def test_spiders_crawl_every_board_shape(site, tmp_path):
    expected = {
        "boss": {"boss-a1b2c3d4e5f6a7b8", "boss-c9d8e7f6a5b4c3d2", "boss-e1f2a3b4c5d6e7f8"},
        "51job": {"51job-150000011", "51job-150000012", "51job-150000013"},
        "zhaopin": {"zhaopin-CC000111222J40000000001", "zhaopin-CC000333444J40000000002"},
        "liepin": {"liepin-55501234"},
    }
    for name, ids in expected.items():
        items, stats = crawl(name, site, tmp_path)
        assert {i["record"]["id"] for i in items} == ids, name
        assert stats["finish_reason"] == "finished"
        postings = [p for p in to_postings(i["record"] for i in items)]
        assert all(isinstance(p, Posting) for p in postings)
        assert all(p.description for p in postings), name  # BOSS descriptions come from the detail pages
    assert any(p.startswith("/job_detail/") for p in site.paths)
    assert sum(p.startswith("/api/job/search-pc") for p in site.paths) == 2  # totalCount/pageSize pages


def test_boss_spider_stops_at_the_first_block(tmp_path):
    site = BoardSite(block_page=2)
    try:
        items, stats = crawl("boss", site, tmp_path)
    finally:
        site.close()
    assert {i["record"]["id"] for i in items} == {"boss-a1b2c3d4e5f6a7b8", "boss-c9d8e7f6a5b4c3d2"}
    assert stats["finish_reason"] == "blocked"
    assert sum(p.startswith("/wapi/") for p in site.paths) == 2  # no retries into the block
