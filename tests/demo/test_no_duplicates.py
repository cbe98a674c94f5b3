"""Template postings must stay distinct jobs: the project's near-duplicate detector marks none of them,
and no two of them come near its similarity threshold."""

from __future__ import annotations

from skillsignal.core.records import record_to_posting
from skillsignal.core.text import normalize_alnum
from skillsignal.dedup import THRESHOLD, Deduper, companies_agree, normalise_company, titles_alike
from skillsignal.demo.generator import generate_postings


class MarkStore:
    def __init__(self) -> None:
        self.marks: dict[str, str | None] = {}

    def set_duplicates(self, dup_of: dict[str, str | None]) -> None:
        self.marks.update(dup_of)


def _as_posting(p):
    return record_to_posting(
        {
            "id": p.id,
            "source": "skillsignal-demo",
            "title": p.title,
            "company": p.company,
            "city": p.city,
            "province": p.province,
            "district": p.district,
            "salary": p.salary,
            "experience": p.experience,
            "education": p.education,
            "description": p.description,
            "tags": list(p.tags),
            "posted": p.posted,
        }
    )


def test_project_deduper_marks_no_demo_posting(tmp_path):
    store = MarkStore()
    deduper = Deduper(store, tmp_path / "dedup.sqlite3")
    try:
        stats = deduper.update(_as_posting(p) for p in generate_postings())
    finally:
        deduper.close()
    assert stats.checked == len(generate_postings())
    assert {k: v for k, v in store.marks.items() if v} == {}


def _shingles(text: str, k: int = 4) -> set[str]:
    return {text[i : i + k] for i in range(max(1, len(text) - k + 1))}


def test_no_pair_comes_near_the_duplicate_threshold():
    postings = generate_postings()
    sh = {p.id: _shingles(normalize_alnum(p.title + p.company + p.description)) for p in postings}
    worst = 0.0
    for i, a in enumerate(postings):
        for b in postings[i + 1 :]:
            if not (
                titles_alike(normalize_alnum(a.title), normalize_alnum(b.title))
                and companies_agree(normalise_company(a.company), normalise_company(b.company))
            ):
                continue
            x, y = sh[a.id], sh[b.id]
            worst = max(worst, len(x & y) / len(x | y))
    assert worst < THRESHOLD - 0.15, worst
