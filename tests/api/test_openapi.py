"""The OpenAPI document and /docs: local Swagger UI, documented errors and content types, caps in the
schema, and the answers the schema promises (405 naming every method, one value per scalar parameter)."""

from __future__ import annotations

import re

import pytest


def test_docs_page_loads_swagger_ui_from_the_app_itself(client):
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page.text)
    assert len(assets) >= 3, assets  # the bundle, the stylesheet, the icon
    assert not re.search(r"https?://", page.text), "the page names an outside URL"
    for url in assets:
        assert url.startswith("/"), url
        res = client.get(url)
        assert res.status_code == 200 and len(res.content) > 100, url
    types = {url.rsplit(".", 1)[-1]: client.get(url).headers["content-type"] for url in assets}
    assert types["js"].startswith(("text/javascript", "application/javascript")) and types["css"].startswith("text/css")
    assert client.get("/docs/oauth2-redirect").status_code == 200
    assert client.get("/redoc").status_code == 404  # not served: it would load from a CDN


def test_schema_documents_errors_content_types_security_and_caps(client):
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    # every operation documents 422 with FastAPI's detail list, and the /v1 ones the store's 400
    for path, ops in paths.items():
        for method, op in ops.items():
            if path.startswith("/v1/taxonomy") or path == "/health" or path == "/v1/rankings":
                continue
            assert {"400", "422"} <= set(op["responses"]), (method, path)
            if method == "post":
                assert {"400", "413"} <= set(op["responses"]), (method, path)
    assert schema["components"]["schemas"]["HTTPValidationError"]["properties"]["detail"]["type"] == "array"
    assert "401" in paths["/v1/postings"]["post"]["responses"]
    assert paths["/v1/postings"]["post"]["security"] == [{"APIKeyHeader": []}]
    for path in (
        "/v1/postings/{posting_id}",
        "/v1/skills/{skill}",
        "/v1/skills/{skill}/timeseries",
        "/v1/taxonomy/occupations/{code}",
        "/v1/taxonomy/skills/{skill_id}",
    ):
        assert "404" in paths[path]["get"]["responses"], path
    for method in ("get", "post"):
        content = paths["/v1/exports/series"][method]["responses"]["200"]["content"]
        assert set(content) == {"text/csv", "application/vnd.apache.parquet"}
    assert set(paths["/v1/exports/cooccurrence"]["get"]["responses"]["200"]["content"]) == {"text/csv"}
    # size is capped in the schema at the app's own page size (50 in these tests)
    size = next(p for p in paths["/v1/postings/search"]["get"]["parameters"] if p["name"] == "size")
    assert size["schema"]["maximum"] == 50
    assert schema["components"]["schemas"]["SearchBody"]["properties"]["size"]["maximum"] == 50
    # occupation codes: the taxonomy's, as an enum in bodies and a comma-separated pattern on GET
    codes = [o["code"] for o in client.get("/v1/taxonomy/occupations").json()["occupations"]]
    body_codes = schema["components"]["schemas"]["PostingFilter"]["properties"]["occupations"]["items"]["enum"]
    assert sorted(body_codes) == sorted([*codes, "other"])
    occ = next(p for p in paths["/v1/totals"]["get"]["parameters"] if p["name"] == "occupations")
    pattern = re.compile(occ["schema"]["items"]["pattern"])
    assert pattern.match(f"{codes[0]},other") and not pattern.match("9-99-99-99") and "\\-" not in pattern.pattern
    assert "x-skillsignal" not in str(schema)


def test_405_names_every_method_of_the_path(client):
    res = client.delete("/v1/totals")
    assert res.status_code == 405 and res.headers["allow"] == "GET, POST"
    assert client.options("/v1/rankings/skills/timeseries").headers["allow"] == "GET, POST"
    assert client.put("/v1/postings/x").headers["allow"] == "GET"


def test_a_repeated_one_value_parameter_is_422(client):
    res = client.get("/v1/totals?salary_min=1&salary_min=999999")
    assert res.status_code == 422
    assert res.json()["detail"] == [
        {
            "loc": ["query", "salary_min"],
            "type": "repeated_parameter",
            "msg": "salary_min: give it once (it takes one value, it was repeated)",
        }
    ]
    assert client.get("/v1/totals?levels=初级&levels=中级").status_code == 200  # lists repeat


def test_a_parameter_the_endpoint_does_not_take_is_422_not_ignored(client):
    """A misspelt filter must not answer for every posting: ``occupation`` for ``occupations``."""
    whole = client.get("/v1/totals").json()["unique_postings"]
    code = client.get("/v1/totals?occupations=other").json()
    assert code["unique_postings"] < whole  # the real parameter filters
    res = client.get("/v1/rankings/skills?occupation=2-02-38-01&limit=3")
    assert res.status_code == 422
    (problem,) = res.json()["detail"]
    assert problem["loc"] == ["query", "occupation"] and problem["type"] == "unknown_parameter"
    assert problem["msg"].startswith("occupation: not a parameter of GET /v1/rankings/skills")
    assert "occupations" in problem["msg"] and "limit" in problem["msg"]  # the ones it does take
    # the first unknown one is named, whatever follows; paths outside the document are not checked
    assert client.get("/v1/totals?levels=初级&bogus=1&zzz=2").json()["detail"][0]["loc"] == ["query", "bogus"]
    assert client.get("/health?probe=1").json()["detail"][0]["msg"].endswith("(it takes: none)")
    assert client.get("/dashboard/?v=2").status_code == 200
    assert client.get("/docs?v=2").status_code == 200


@pytest.mark.parametrize(
    "url,kwargs",
    [
        ("/v1/totals", {"params": {"start": "0"}}),  # a Unix timestamp is no date
        ("/v1/totals", {"params": {"start": "2026-01-01T00:00:00"}}),
        ("/v1/totals", {"params": {"levels": "初级,"}}),  # an empty value in a closed list
        ("/v1/exports/series", {"params": {"dimensions": "level,"}}),
    ],
)
def test_get_values_outside_the_schema_are_422(client, url, kwargs):
    assert client.get(url, **kwargs).status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"filter": {"salary_min": "5"}},
        {"filter": {"salary_min": True}},
        {"filter": {"start": 0}},
        {"filter": {"start": "2026-01-01T00:00:00"}},
        {"limit": "5"},
    ],
)
def test_json_values_outside_the_schema_are_422(client, body):
    assert client.post("/v1/rankings/skills", json=body).status_code == 422


def test_integral_float_is_an_integer_as_json_schema_says(client):
    assert client.post("/v1/rankings/skills", json={"limit": 3.0}).status_code == 200
