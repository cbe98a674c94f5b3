"""GET /v1/catalogue end to end: a generated 24-month history in a real SQLite store, through the
app. The answer is the catalogue signals.catalogue builds from that store (no other source), the
planted tightening leads it, the files download and open, and bad input is a 422 naming the
parameter."""

from __future__ import annotations

import io
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from signals.catalogue import build_catalogue
from skill_taxonomy import default_taxonomy

from .catalogue_history import PLANTED, generated_history
from .conftest import make_settings


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from skillsignal.server import build_app

    app = build_app(make_settings(tmp_path_factory.mktemp("catalogue")))
    app.state.store.index_postings(generated_history(per_cell=8))
    with TestClient(app) as c:
        c.store = app.state.store
        yield c


def test_the_answer_is_the_catalogue_built_from_the_store(client):
    res = client.get("/v1/catalogue", params={"period": "2026Q3", "region": "东部"})
    assert res.status_code == 200, res.text
    got = res.json()
    want = build_catalogue(client.store, default_taxonomy(), "2026Q3", region="east")
    assert got == want.model_dump(mode="json")
    assert (got["period"], got["start"], got["end"], got["region"]) == ("2026Q3", "2026-07-01", "2026-09-30", "east")
    assert got["measure"] == "demand_tightness"
    # the planted tightening (2-02-38-01 in 广东, east) leads; no other occupation is rated tight
    tight = {e["indicators"]["occupation"] for e in got["entries"] if e["rating"]["label"] in ("critical", "elevated")}
    assert tight == {PLANTED[0]}
    assert got["entries"][0]["indicators"]["occupation"] == PLANTED[0]
    assert got["entries"][0]["top_skills"] and got["entries"][0]["rating"]["reasons"]
    # the region's English id answers the same
    assert client.get("/v1/catalogue", params={"period": "2026Q3", "region": "east"}).json() == got


def test_min_sample_and_province_reach_the_catalogue(client):
    strict = client.get("/v1/catalogue", params={"period": "2026Q3", "province": "广东", "min_sample": 1000}).json()
    assert strict["province"] == "广东" and strict["thresholds"]["min_sample"] == 1000
    assert {e["rating"]["label"] for e in strict["entries"]} == {"suppressed"}
    lax = client.get("/v1/catalogue", params={"period": "2026Q3", "province": "广东", "min_sample": 5}).json()
    assert lax == build_catalogue(client.store, default_taxonomy(), "2026Q3", province="广东", min_sample=5).model_dump(
        mode="json"
    )


@pytest.mark.parametrize(
    "params,name",
    [
        ({"period": "2026Q5"}, "period"),
        ({"period": "2026-13"}, "period"),
        ({"period": "next quarter"}, "period"),
        ({"period": "0000"}, "period"),
        ({"period": "9999Q4"}, "period"),
        ({}, "period"),
        ({"period": "2026Q3", "region": "南部"}, "region"),
        ({"period": "2026Q3", "min_sample": 0}, "min_sample"),
        ({"period": "2026Q3", "format": "pdf"}, "format"),
    ],
)
def test_bad_input_is_a_422_naming_the_parameter(client, params, name):
    res = client.get("/v1/catalogue", params=params)
    assert res.status_code == 422, res.text
    (problem,) = res.json()["detail"]
    assert problem["loc"][-1] == name and problem["msg"].startswith(name)


class _Rows(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ratings: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-rating" in attrs:
            self.ratings.append(attrs["data-rating"])
        if tag in ("script", "link", "img") or "src" in attrs:
            self.external.append(tag)


def test_files_download_and_hold_every_entry(client):
    params = {"period": "2026Q3", "region": "东部"}
    entries = client.get("/v1/catalogue", params=params).json()["entries"]
    labels = [e["rating"]["label"] for e in entries]

    xlsx = client.get("/v1/catalogue", params={**params, "format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "catalogue-2026Q3-east.xlsx" in xlsx.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(xlsx.content))
    rows = list(wb["catalogue"].iter_rows(values_only=True))
    assert len(rows) == 1 + len(entries)
    rating = [str(h).split()[-1] for h in rows[0]].index("rating")
    assert [r[rating] for r in rows[1:]] == labels
    assert dict(wb["thresholds"].iter_rows(min_row=2, values_only=True))["measure"].startswith("需求紧张度")

    page = client.get("/v1/catalogue", params={**params, "format": "html"})
    assert page.headers["content-type"].startswith("text/html")
    parsed = _Rows()
    parsed.feed(page.text)
    assert parsed.ratings == labels and not parsed.external

    md = client.get("/v1/catalogue", params={**params, "format": "md"})
    assert md.headers["content-type"].startswith("text/markdown")
    assert sum(line.startswith("| ") for line in md.text.splitlines()) == 1 + len(entries)
