"""The default configuration gives a posting the same extraction whatever it is batched with,
also where the CPU reports native bfloat16 (the detection is patched: the suite's outcome must
not depend on the CPU it runs on)."""

from __future__ import annotations

import pytest

from skillsignal.core.models import Posting

POSTINGS = [
    (
        "ai",
        "深度学习算法工程师（高级）",
        "岗位职责：1、负责大模型预训练与微调，优化训练和推理性能；2、设计图像分类与目标检测算法并部署上线。"
        "任职要求：1、五年以上经验，精通PyTorch、CUDA与分布式训练；2、熟悉Transformer、LangChain与向量数据库。",
    ),
    (
        "bigdata",
        "大数据开发工程师",
        "岗位职责：负责数据仓库建模与ETL开发，搭建Spark、Flink实时计算平台，保障数据质量。"
        "任职要求：熟悉Hadoop、Hive、Kafka，三年以上大数据开发经验，熟练使用SQL与Python。",
    ),
    (
        "cloud",
        "云计算运维工程师",
        "工作内容：负责公司云平台的规划、部署与运维，管理Kubernetes集群和Docker容器，编写Ansible自动化脚本。"
        "岗位要求：熟悉Linux、OpenStack与网络存储，有云原生监控Prometheus经验者优先。",
    ),
    (
        "security",
        "网络安全工程师",
        "职责：开展渗透测试与漏洞扫描，处置安全事件，建设态势感知与等级保护体系。"
        "要求：熟悉防火墙、WAF、IDS，了解OWASP Top 10，持有CISP证书优先。",
    ),
    # a close call between two occupations: only such postings get their duties embedded
    (
        "close",
        "算法工程师",
        "岗位职责：负责数据平台的数据清洗、ETL开发和数据分析报表，搭建机器学习模型。任职要求：熟悉Hive、Spark、PyTorch。",
    ),
    (
        "office",
        "行政前台",
        "负责公司前台接待、来访登记、快递收发与会议室预定，协助组织员工活动。要求形象好，熟练使用Office。",
    ),
]


def _postings() -> list[Posting]:
    return [Posting(id=i, source="test", title=t, description=d) for i, t, d in POSTINGS]


def _dump(extraction) -> dict:
    return extraction.model_dump(mode="json", exclude={"extracted_at"})


@pytest.mark.model
@pytest.mark.parametrize("native_bf16", [True, False], ids=["cpu-with-native-bf16", "cpu-without"])
def test_default_extraction_does_not_depend_on_the_batch(native_bf16, monkeypatch, model_settings, converted):
    import nlp.embeddings.embedder as emb_mod
    from nlp.embeddings import clear_embedders
    from nlp.extractor import Extractor
    from skillsignal.core.config import Settings

    monkeypatch.setattr(emb_mod, "cpu_has_native_bf16", lambda: native_bf16)
    clear_embedders()
    settings = Settings(data_dir=model_settings.data_dir)  # every embedding setting at its default
    extractor = Extractor.from_settings(settings)
    assert extractor.uses_embeddings
    emb = extractor.embedder
    emb._disk = None  # compute every vector in this test, never read one back
    emb.encoded_texts = 0  # what the postings ask for, not the taxonomy vectors of the load
    postings = _postings()

    emb.clear_cache()
    together = [_dump(r) for r in extractor.extract_many(postings)]
    alone = []
    for p in postings:
        emb.clear_cache()
        alone.append(_dump(extractor.extract(p)))
    emb.clear_cache()
    reversed_batch = [_dump(r) for r in extractor.extract_many(postings[::-1])][::-1]
    assert together == alone == reversed_batch
    # the test exercises the model: some posting got competencies from the embedding matcher
    assert any(d["competencies"] for d in together)
    assert emb.encoded_texts > 0
    clear_embedders()
