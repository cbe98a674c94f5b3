"""A small taxonomy written for the extractor tests (not the bundled one, which keeps growing)."""

from __future__ import annotations

from skill_taxonomy.loader import Taxonomy
from skill_taxonomy.models import (
    Competency,
    Direction,
    Occupation,
    OccupationLink,
    Provenance,
    Skill,
)

PROV = Provenance(source="tests", verified=False)
AI, BIGDATA, SOFTWARE, OPS = "2-02-38-01", "2-02-38-03", "2-02-10-03", "2-02-10-08"


def _occ(code, name, core, patterns, directions=(), levels=None):
    return Occupation(
        code=code,
        name_zh=name,
        name_en=name,
        core=core,
        definition=f"{name}的定义",
        directions=list(directions),
        title_patterns=list(patterns),
        levels=levels or {},
        provenance=PROV,
    )


def _skill(sid, name, type_="tool", aliases=(), links=(), **extra):
    return Skill(
        id=sid,
        name_zh=name,
        name_en=extra.pop("name_en", name),
        type=type_,
        aliases=list(aliases),
        occupations=[OccupationLink(occupation=c, weight=w) for c, w in links],
        **extra,
    )


def build_taxonomy() -> Taxonomy:
    def comp(cid: str, text: str, level: str) -> Competency:
        return Competency(id=cid, function="开发", work_content="模型训练", text=text, provenance=PROV)

    occupations = {
        AI: _occ(
            AI,
            "人工智能工程技术人员",
            True,
            [r"算法工程师|深度学习|机器学习"],
            [Direction(id="cv", name_zh="计算机视觉", name_en="CV", title_patterns=["视觉|图像"])],
            {
                "初级": [comp("ai.1", "能使用深度学习框架训练图像分类模型", "初级")],
                "中级": [comp("ai.2", "能设计并优化目标检测算法的模型结构", "中级")],
            },
        ),
        BIGDATA: _occ(BIGDATA, "大数据工程技术人员", True, [r"大数据|数据仓库|数仓"]),
        SOFTWARE: _occ(SOFTWARE, "计算机软件工程技术人员", False, [r"后端|前端|软件工程师|开发工程师"]),
        OPS: _occ(OPS, "信息系统运行维护工程技术人员", False, [r"运维"]),
    }
    skills = [
        _skill("python", "Python", "language", ["python3"], [(AI, 0.6), (BIGDATA, 0.6), (SOFTWARE, 0.6)]),
        _skill("java", "Java", "language", [], [(SOFTWARE, 0.9), (BIGDATA, 0.4)]),
        _skill("javascript", "JavaScript", "language", ["JS"], [(SOFTWARE, 0.9)]),
        _skill("c", "C", "language", ["C语言"], [(SOFTWARE, 0.6)]),
        _skill("c++", "C++", "language", ["C/C++"], [(SOFTWARE, 0.7), (AI, 0.3)]),
        _skill("c#", "C#", "language", [], [(SOFTWARE, 0.8)]),
        _skill("r", "R", "language", ["R语言"], [(BIGDATA, 0.5)]),
        _skill("go", "Go", "language", ["Golang"], [(SOFTWARE, 0.8)]),
        _skill("nodejs", "Node.js", "framework", ["NodeJS"], [(SOFTWARE, 0.8)]),
        _skill("tcp-ip", "TCP/IP", "protocol", [], [(OPS, 0.6), (SOFTWARE, 0.3)]),
        _skill("django", "Django", "framework", [], [(SOFTWARE, 0.9)]),
        _skill("mysql", "MySQL", "database", [], [(SOFTWARE, 0.7), (BIGDATA, 0.4), (OPS, 0.5)]),
        _skill("hadoop", "Hadoop", "tool", [], [(BIGDATA, 1.0)]),
        _skill("spark", "Spark", "tool", [], [(BIGDATA, 1.0)]),
        _skill("hive", "Hive", "tool", [], [(BIGDATA, 1.0)]),
        _skill("kubernetes", "Kubernetes", "tool", ["K8s"], [(OPS, 0.6)]),
        _skill("jenkins", "Jenkins", "tool", [], [(OPS, 0.7), (SOFTWARE, 0.4)]),
        _skill(
            "pytorch", "PyTorch", "framework", ["torch"], [(AI, 1.0)], context_required=True, context_aliases=["torch"]
        ),
        _skill("tensorflow", "TensorFlow", "framework", [], [(AI, 1.0)]),
        _skill("deep-learning", "深度学习", "method", [], [(AI, 1.0)], name_en="Deep learning"),
        _skill("machine-learning", "机器学习", "method", [], [(AI, 0.9), (BIGDATA, 0.4)], name_en="Machine learning"),
        _skill("statistics", "统计学", "knowledge", [], [(BIGDATA, 0.5)], name_en="Statistics"),
        _skill("data-analysis", "数据分析", "method", [], [(BIGDATA, 0.7)], name_en="Data analysis"),
        _skill("device-drivers", "驱动开发", "knowledge", ["驱动"], [(SOFTWARE, 0.3)], name_en="Device drivers"),
        _skill("linux", "Linux", "tool", [], [(OPS, 0.8), (SOFTWARE, 0.5)]),
        _skill("finance", "金融", "knowledge", [], [(BIGDATA, 0.2)], name_en="Finance"),
    ]
    return Taxonomy(version="test-1", occupations=occupations, skills={s.id: s for s in skills})
