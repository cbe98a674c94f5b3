"""Bulk extraction on worker processes gives the same lines, in the same order, as one process."""

from __future__ import annotations

import json
import os

import nlp.parallel
from nlp.batch import extract_jsonl
from nlp.parallel import task_size

TASK = 8  # postings per worker task in the test (MAX_TASK patched down): several tasks, one partial
N = 3 * TASK + 5

TEMPLATES = [
    ("大数据开发工程师", "负责Spark、Flink实时计算平台开发与数据仓库建模；熟悉Hadoop、Hive、Kafka，三年以上经验。"),
    ("深度学习算法工程师", "负责图像分类与目标检测算法研发，精通PyTorch与CUDA，硕士以上学历。"),
    ("云计算运维工程师", "负责云平台部署运维，管理Kubernetes集群和Docker容器，熟悉Linux与Ansible。"),
    ("行政前台", "负责前台接待、来访登记与会议室预定，熟练使用Office。"),
]


def test_worker_processes_give_the_same_lines_as_one_process(tmp_path, settings, monkeypatch):
    monkeypatch.setattr(nlp.parallel, "MAX_TASK", TASK)
    src = tmp_path / "in.jsonl"
    with src.open("w", encoding="utf-8") as fh:
        for i in range(N):
            title, desc = TEMPLATES[i % len(TEMPLATES)]
            fh.write(
                json.dumps(
                    {"id": f"p{i}", "source": "test", "title": title, "description": f"{desc}（{i}号）"},
                    ensure_ascii=False,
                )
                + "\n"
            )
        fh.write("not json\n")
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    extract_jsonl(src, one, settings=settings, use_embeddings=False)
    parallel = settings.model_copy(update={"extract_workers": 2})
    children_before = set(os.listdir("/proc"))
    stats = extract_jsonl(src, two, settings=parallel, use_embeddings=False)
    assert stats["workers"] == 2 and stats["lines"] == N + 1 and stats["errors"] == 1
    assert one.read_text(encoding="utf-8") == two.read_text(encoding="utf-8")
    ids = [json.loads(line)["id"] for line in two.read_text(encoding="utf-8").splitlines()]
    assert ids[:-1] == [f"p{i}" for i in range(N)]
    # the workers are gone once the run returns
    leftover = [p for p in set(os.listdir("/proc")) - children_before if p.isdigit()]
    assert all(
        not os.path.exists(f"/proc/{p}") or open(f"/proc/{p}/stat").read().split()[3] != str(os.getpid())
        for p in leftover
    )


def test_a_call_is_dealt_in_equal_tasks_one_per_worker_up_to_the_most():
    assert task_size(256, 2) == 128  # skillsignal extract's reads
    assert task_size(200, 2) == 100  # the ingest pipeline's batches
    assert task_size(201, 2) == 101
    assert task_size(5000, 2) == nlp.parallel.MAX_TASK
    assert task_size(3, 4) == 1
