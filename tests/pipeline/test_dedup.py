"""Near-duplicate detection on postings the tests write: reposts with small edits, one job on
two boards, exact copies; and postings that must stay apart (same title at another company,
one company's template under another title). Marks go into a real SQLite store."""

from __future__ import annotations

from datetime import date

import pytest

from skillsignal.core.models import Posting
from skillsignal.dedup import Deduper, companies_agree, normalise_company, shingle_hashes, titles_alike
from storage import SQLiteStore

BASE = (
    "岗位职责：1、负责车联网平台数据仓库的分层设计与建模，维护离线与实时两条数据链路；"
    "2、基于Flink和Kafka开发实时指标计算任务，保障核心报表在五分钟内更新；"
    "3、与算法团队合作沉淀用户画像标签体系，支持精准营销与风控场景；"
    "4、推动数据质量监控与元数据治理，编写开发规范并组织代码评审。"
    "任职要求：1、统计、计算机相关专业本科及以上学历，三年以上大数据开发经验；"
    "2、熟练掌握Hive、Spark SQL，熟悉HBase、ClickHouse者优先；"
    "3、具备良好的沟通能力和责任心，能在多团队协作中推动项目落地。"
)
EDITED = BASE.replace("五分钟", "三分钟").replace("三年以上", "3年以上").replace("；", ";") + "（本岗位可远程办公两天）"
OTHER = (
    "工作内容：负责门店收银系统的安卓客户端开发，维护蓝牙打印与扫码枪适配模块；"
    "参与支付SDK的封装与灰度发布，跟进线上崩溃率并持续优化启动速度。"
    "要求：熟悉Kotlin与Jetpack组件，了解Gradle构建流程，两年以上移动端开发经验。"
)
TEMPLATE = (
    "公司简介：远帆软件成立于二〇一二年，专注于制造业数字化解决方案，服务客户超过三百家。"
    "福利待遇：五险一金、年终奖、带薪年假、定期体检、节日福利、免费班车、员工食堂、技术培训。"
    "工作地点：苏州工业园区星湖街。面试流程：简历筛选、技术面试、综合面试、发放录用通知。"
)


def job(pid: str, title: str, company: str | None, description: str, posted: date | None, source="board-a"):
    return Posting(id=pid, source=source, title=title, company=company, description=description, posted_at=posted)


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(tmp_path / "store.sqlite3")
    yield s
    s.close()


def dedup(store, postings, path=None):
    store.upsert_postings(postings)
    d = Deduper(store, path or store.path)
    stats = d.update(postings)
    return d, stats


def marks(store) -> dict[str, str | None]:
    rows = store._connect().execute("SELECT id, dup_of FROM postings ORDER BY id").fetchall()
    return {r["id"]: r["dup_of"] for r in rows}


def test_helpers():
    assert normalise_company("杭州云杉智能科技有限公司") == "杭州云杉智能科技"
    assert normalise_company("云杉智能（杭州）科技有限公司") == "云杉智能科技"
    assert companies_agree("杭州云杉智能科技", "云杉智能") and not companies_agree("云杉智能", "远帆软件")
    assert companies_agree("", "远帆软件")
    assert titles_alike("大数据开发工程师", "高级大数据开发工程师")
    assert not titles_alike("java开发工程师", "软件测试工程师")
    a, b = shingle_hashes("大数据开发工程师"), shingle_hashes("大数据开发工程师")
    assert (a == b).all() and len(a) == len("大数据开发工程师") - 3


def test_repost_with_small_edits_and_second_board_form_one_cluster(store):
    first = job("a-1", "大数据开发工程师", "杭州云杉智能科技有限公司", BASE, date(2026, 3, 1))
    repost = job("a-2", "大数据开发工程师（急招）", "杭州云杉智能科技有限公司", EDITED, date(2026, 3, 20))
    board_b = job(
        "b-9",
        "大数据开发工程师",
        "云杉智能",
        "  " + BASE.replace("，", ", ").replace("：", ":\n"),
        date(2026, 3, 5),
        source="board-b",
    )
    d, stats = dedup(store, [repost, board_b, first])
    assert marks(store) == {"a-1": None, "a-2": "a-1", "b-9": "a-1"}
    assert stats.marks_written == 2
    assert d.clusters() == {"a-1": ["a-2", "b-9"]}
    assert store.count_postings() == 3 and store.count_postings(unique_only=True) == 1
    assert store.totals().duplicate_postings == 2


def test_same_title_elsewhere_is_not_a_duplicate(store):
    postings = [
        job("x-1", "大数据开发工程师", "杭州云杉智能科技有限公司", BASE, date(2026, 3, 1)),
        # same title, another company, another text
        job("x-2", "大数据开发工程师", "青禾零售", OTHER, date(2026, 3, 1)),
        # same title and text at another company (an agency re-post is not the employer's job)
        job("x-3", "大数据开发工程师", "远帆软件有限公司", BASE, date(2026, 3, 2)),
        # one company's boilerplate under two different jobs
        job("x-4", "Java开发工程师", "远帆软件", TEMPLATE + "要求：熟悉Spring Boot。", date(2026, 3, 3)),
        job("x-5", "软件测试工程师", "远帆软件", TEMPLATE + "要求：熟悉Selenium。", date(2026, 3, 3)),
    ]
    d, stats = dedup(store, postings)
    assert set(marks(store).values()) == {None}
    assert stats.marks_written == 0 and d.clusters() == {}


def test_exact_copies_take_the_fast_path_and_smallest_id_wins_a_tie(store):
    copies = [job(f"c-{i}", "区块链开发工程师", "链桥科技", OTHER, date(2026, 5, 1)) for i in (3, 1, 2)]
    d, stats = dedup(store, copies)
    assert stats.signed == 1  # one MinHash for three identical texts
    assert marks(store) == {"c-1": None, "c-2": "c-1", "c-3": "c-1"}


def test_undated_postings_yield_to_dated_ones(store):
    dedup(
        store,
        [
            job("a", "大数据开发工程师", "云杉智能", BASE, None),
            job("z", "大数据开发工程师", "云杉智能", EDITED, date(2026, 1, 1)),
        ],
    )
    assert marks(store) == {"a": "z", "z": None}


def test_incremental_earlier_arrival_becomes_canonical_and_reruns_write_nothing(store):
    d, _ = dedup(
        store,
        [
            job("n-5", "大数据开发工程师", "云杉智能", BASE, date(2026, 4, 1)),
            job("n-7", "大数据开发工程师", "云杉智能", EDITED, date(2026, 4, 9)),
        ],
    )
    assert marks(store) == {"n-5": None, "n-7": "n-5"}
    earlier = job("n-9", "大数据开发工程师", "云杉智能", BASE + "欢迎投递。", date(2026, 2, 1))
    store.upsert_postings([earlier])
    stats = d.update([earlier])
    assert marks(store) == {"n-5": "n-9", "n-7": "n-9", "n-9": None}
    assert stats.marks_written == 2  # n-9 was unmarked already
    again = d.update([earlier, *[store.get_posting(i) for i in ("n-5", "n-7")]])
    assert (again.signed, again.marks_written) == (0, 0)


def test_changed_text_leaves_its_cluster(store):
    d, _ = dedup(
        store,
        [
            job("m-1", "大数据开发工程师", "云杉智能", BASE, date(2026, 4, 1)),
            job("m-2", "大数据开发工程师", "云杉智能", EDITED, date(2026, 4, 2)),
            job("m-3", "大数据开发工程师", "云杉智能", BASE, date(2026, 4, 3)),
        ],
    )
    assert marks(store) == {"m-1": None, "m-2": "m-1", "m-3": "m-1"}
    rewritten = job("m-1", "大数据开发工程师", "云杉智能", OTHER, date(2026, 4, 1))
    store.upsert_postings([rewritten])
    d.update([rewritten])
    assert marks(store) == {"m-1": None, "m-2": None, "m-3": "m-2"}


def test_signatures_persist_across_instances(store):
    d, _ = dedup(store, [job("p-1", "大数据开发工程师", "云杉智能", BASE, date(2026, 4, 1))])
    d.close()
    table = store._connect().execute("SELECT COUNT(*) FROM dedup_signatures").fetchone()[0]
    assert table == 1
    later = job("p-2", "大数据开发工程师", "云杉智能", EDITED, date(2026, 4, 5))
    store.upsert_postings([later])
    fresh = Deduper(store, store.path)
    stats = fresh.update([store.get_posting("p-1"), later])
    assert stats.signed == 1 and marks(store) == {"p-1": None, "p-2": "p-1"}


def test_arrival_order_does_not_change_marks(tmp_path):
    postings = [
        job("o-1", "大数据开发工程师", "云杉智能", BASE, date(2026, 4, 3)),
        job("o-2", "大数据开发工程师", "云杉智能", EDITED, date(2026, 4, 1)),
        job("o-3", "大数据开发工程师", "杭州云杉智能科技有限公司", BASE + "。", date(2026, 4, 2)),
        job("o-4", "安卓开发工程师", "青禾零售", OTHER, date(2026, 4, 1)),
    ]
    results = []
    for name, order in (("fwd", postings), ("rev", postings[::-1])):
        s = SQLiteStore(tmp_path / f"{name}.sqlite3")
        s.upsert_postings(order)
        d = Deduper(s, s.path)
        for p in order:  # one at a time, as a crawler would deliver them
            d.update([p])
        results.append(marks(s))
        s.close()
    assert results[0] == results[1] == {"o-1": "o-2", "o-2": None, "o-3": "o-2", "o-4": None}


def test_rebuild_clears_stale_marks(store):
    d, _ = dedup(
        store,
        [
            job("r-1", "大数据开发工程师", "云杉智能", BASE, date(2026, 4, 1)),
            job("r-2", "大数据开发工程师", "云杉智能", BASE, date(2026, 4, 2)),
        ],
    )
    store.set_duplicates({"r-1": "r-2"})  # a wrong mark from elsewhere
    stats = d.rebuild(store.iter_postings())
    assert marks(store) == {"r-1": None, "r-2": "r-1"} and stats.checked == 2


def test_pipeline_marks_duplicates_and_reruns_are_safe(tmp_path, settings):
    from skillsignal.pipeline import IngestPipeline

    store = SQLiteStore(tmp_path / "pipe.sqlite3")
    batch = [
        job("q-1", "大数据开发工程师", "云杉智能", BASE, date(2026, 4, 1)),
        job("q-2", "大数据开发工程师", "云杉智能", EDITED, date(2026, 4, 2), source="board-b"),
        job("q-3", "安卓开发工程师", "青禾零售", OTHER, date(2026, 4, 1)),
    ]
    for _ in range(2):
        pipe = IngestPipeline(settings, store=SQLiteStore(store.path), extract=False)
        pipe.process(batch)
        pipe.close()
    assert marks(store) == {"q-1": None, "q-2": "q-1", "q-3": None}
    assert store.stats()["duplicates"] == 1 and store.count_postings(unique_only=True) == 2


def _cluster_postings() -> list[Posting]:
    """Six jobs, each posted three times with small edits on different days (18 postings), plus
    six unrelated ones: the clusters any delivery order must find."""
    topics = ["车联网", "智慧医疗", "跨境电商", "工业互联网", "金融风控", "智能客服"]
    out = []
    for t, topic in enumerate(topics):
        text = BASE.replace("车联网", topic)
        for k, variant in enumerate((text, text.replace("五分钟", "三分钟"), text + "（可远程）")):
            out.append(
                job(f"c{t}-{k}", f"{topic}大数据开发工程师", f"云杉{t}科技", variant, date(2026, 4, 1 + 3 * k + t))
            )
        out.append(job(f"u{t}", f"{topic}安卓开发", f"青禾{t}", OTHER.replace("门店", topic), date(2026, 4, 2)))
    return out


def _deliver(path: str, ids: list[str], barrier) -> None:
    """One crawler process: its own store connection and Deduper, postings one at a time."""
    by_id = {p.id: p for p in _cluster_postings()}
    store = SQLiteStore(path)
    deduper = Deduper(store, store.path)
    deduper.update([])  # loaded before the others store anything: only catching up finds their work
    barrier.wait()
    for pid in ids:
        store.upsert_postings([by_id[pid]])
        deduper.update([by_id[pid]])
    deduper.close()
    store.close()


def test_processes_sharing_a_store_mark_as_one_process(tmp_path):
    """Three processes (as in a distributed crawl) each deliver a third of the postings, the
    members of every cluster spread over them, at once; the marks equal one process's."""
    import multiprocessing

    postings = _cluster_postings()
    one = SQLiteStore(tmp_path / "one.sqlite3")
    one.upsert_postings(postings)
    Deduper(one, one.path).update(postings)
    want = marks(one)
    one.close()
    assert sum(1 for v in want.values() if v) == 12  # two duplicates in each of the six clusters

    path = str(tmp_path / "shared.sqlite3")
    SQLiteStore(path).close()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(3)
    shares = [[p.id for p in postings[i::3]] for i in range(3)]
    procs = [ctx.Process(target=_deliver, args=(path, share, barrier)) for share in shares]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    shared = SQLiteStore(path)
    assert marks(shared) == want
    shared.close()
