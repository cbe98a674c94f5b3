"""HTML, JSON-LD, robots.txt and sitemap.xml of the demo board (pure functions of the postings)."""

from __future__ import annotations

import json
from datetime import date
from html import escape

from .generator import DemoPosting

PAGE_SIZE = 20
IDENTIFIER_NAME = "skillsignal-demo"

_STYLE = (
    "body{font-family:sans-serif;max-width:860px;margin:2em auto;padding:0 1em;color:#222}"
    "li.job{margin:.6em 0}.meta{color:#666;font-size:.9em}dt{font-weight:bold}"
)


def page_count(n: int) -> int:
    return max(1, -(-n // PAGE_SIZE))


def detail_path(p: DemoPosting) -> str:
    return f"/jobs/{p.id}.html"


def list_path(page: int) -> str:
    return f"/jobs?page={page}"


def _doc(title: str, body: str, head: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n{head}</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def render_list(postings: list[DemoPosting], page: int) -> str:
    pages = page_count(len(postings))
    chunk = postings[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    head = ""
    nav = []
    if page > 1:
        head += f'<link rel="prev" href="{list_path(page - 1)}">\n'
        nav.append(f'<a rel="prev" class="prev" href="{list_path(page - 1)}">上一页</a>')
    if page < pages:
        head += f'<link rel="next" href="{list_path(page + 1)}">\n'
        nav.append(f'<a rel="next" class="next" href="{list_path(page + 1)}">下一页</a>')
    items = "\n".join(
        f'<li class="job" data-id="{escape(p.id)}"><a class="job-link" href="{detail_path(p)}">{escape(p.title)}</a>'
        f' <span class="meta">{escape(p.company)} · {escape(p.city)} · {escape(p.salary)} · '
        f'<time datetime="{p.posted.isoformat()}">{p.posted.isoformat()}</time></span></li>'
        for p in chunk
    )
    body = (
        f'<h1>SkillSignal 演示招聘板</h1>\n<p class="summary">共 {len(postings)} 个职位，第 {page}/{pages} 页</p>\n'
        f'<ul class="jobs">\n{items}\n</ul>\n<nav class="pager">{" ".join(nav)}</nav>'
    )
    return _doc(f"职位列表 第{page}页 - SkillSignal 演示招聘板", body, head)


def description_html(p: DemoPosting) -> str:
    return "".join(f"<p>{escape(line)}</p>" for line in p.description.split("\n"))


def job_posting_ld(p: DemoPosting, base_url: str) -> dict:
    """The schema.org JobPosting object of one posting."""
    ld: dict = {
        "@context": "https://schema.org/",
        "@type": "JobPosting",
        "identifier": {"@type": "PropertyValue", "name": IDENTIFIER_NAME, "value": p.id},
        "title": p.title,
        "description": description_html(p),
        "datePosted": p.posted.isoformat(),
        "validThrough": p.valid_through.isoformat(),
        "employmentType": "INTERN" if p.employment_type == "实习" else "FULL_TIME",
        "hiringOrganization": {"@type": "Organization", "name": p.company, "numberOfEmployees": p.company_size},
        "jobLocation": {
            "@type": "Place",
            "address": {
                "@type": "PostalAddress",
                "addressCountry": "CN",
                "addressRegion": p.province,
                "addressLocality": p.city,
                "district": p.district,
                "streetAddress": f"{p.district}{p.street}",
            },
        },
        "experienceRequirements": p.experience,
        "educationRequirements": p.education,
        "industry": p.industry,
        "skills": list(p.tags),
        "salaryText": p.salary,
        "url": f"{base_url}{detail_path(p)}",
    }
    salary: dict = {"@type": "MonetaryAmount", "currency": "CNY"}
    if p.salary_min is not None:
        salary["value"] = {
            "@type": "QuantitativeValue",
            "minValue": p.salary_min,
            "maxValue": p.salary_max,
            "unitText": p.salary_unit,
        }
    salary["description"] = p.salary
    ld["baseSalary"] = salary
    return ld


def _json_for_script(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=1).replace("</", "<\\/")


def render_detail(p: DemoPosting, base_url: str) -> str:
    ld = job_posting_ld(p, base_url)
    head = f'<script type="application/ld+json">\n{_json_for_script(ld)}\n</script>\n'
    fields = [
        ("公司", "company", p.company),
        ("城市", "city", p.city),
        ("省份", "province", p.province),
        ("区域", "district", p.district),
        ("薪资", "salary", p.salary),
        ("经验", "experience", p.experience),
        ("学历", "education", p.education),
        ("行业", "industry", p.industry),
        ("公司规模", "company_size", p.company_size),
        ("工作性质", "employment_type", p.employment_type),
        ("发布日期", "posted", p.posted.isoformat()),
    ]
    meta = "\n".join(f'<dt>{k}</dt><dd data-field="{f}">{escape(v)}</dd>' for k, f, v in fields)
    tags = "".join(f'<li class="tag">{escape(t)}</li>' for t in p.tags)
    body = (
        f'<article class="job" data-id="{escape(p.id)}">\n<h1 class="job-title">{escape(p.title)}</h1>\n'
        f'<dl class="job-meta">\n{meta}\n</dl>\n<ul class="tags">{tags}</ul>\n'
        f'<section class="job-description">\n{description_html(p)}\n</section>\n</article>\n'
        f'<p><a href="{list_path(1)}">返回职位列表</a></p>'
    )
    return _doc(f"{p.title} - {p.company} - SkillSignal 演示招聘板", body, head)


def render_index(n: int) -> str:
    body = (
        f"<h1>SkillSignal 演示招聘板</h1>\n<p>{n} 个演示职位（模板生成，公司名均为虚构）。</p>\n"
        f'<p><a href="{list_path(1)}">浏览职位</a> · <a href="/sitemap.xml">站点地图</a></p>'
    )
    return _doc("SkillSignal 演示招聘板", body)


def render_robots(base_url: str) -> str:
    return f"User-agent: *\nAllow: /jobs\nDisallow: /admin\n\nSitemap: {base_url}/sitemap.xml\n"


def render_sitemap(postings: list[DemoPosting], base_url: str) -> str:
    urls = "\n".join(
        f"  <url><loc>{escape(base_url + detail_path(p))}</loc><lastmod>{p.posted.isoformat()}</lastmod></url>"
        for p in postings
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{urls}\n</urlset>\n"
    )


def last_modified(postings: list[DemoPosting]) -> date:
    return max(p.posted for p in postings)
