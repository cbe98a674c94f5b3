"""The filter is declared once (storage.filters.PostingFilter): a POST body's ``filter`` is that model and
every GET route's query parameters are derived from its fields, so the two forms cannot drift apart."""

from __future__ import annotations

import pytest

from storage.filters import PostingFilter

LIST_HELP = "Repeat the parameter or separate values with commas."
GET_ROUTES = [
    "/v1/totals",
    "/v1/timeseries",
    "/v1/rankings/{facet}",
    "/v1/counts/levels",
    "/v1/skills/{skill}",
    "/v1/postings/search",
    "/v1/exports/series",
]


@pytest.fixture(scope="module")
def document(client):
    return client.get("/openapi.json").json()


@pytest.mark.parametrize("path", GET_ROUTES)
def test_get_parameters_are_the_filter_fields_in_order_with_their_descriptions(document, path):
    params = {p["name"]: p for p in document["paths"][path]["get"]["parameters"] if p["in"] == "query"}
    filter_params = [name for name in params if name in PostingFilter.model_fields]
    assert filter_params == list(PostingFilter.model_fields)
    for name, field in PostingFilter.model_fields.items():
        got = params[name]
        assert got["required"] is False
        if field.default_factory is list:
            assert got["schema"]["type"] == "array" and got["description"].endswith(LIST_HELP), name
            assert got["description"] == " ".join(filter(None, [field.description, LIST_HELP])), name
        else:
            assert got["description"] == field.description, name


def test_closed_lists_document_their_values_as_a_comma_separated_pattern(document):
    params = {p["name"]: p["schema"] for p in document["paths"]["/v1/totals"]["get"]["parameters"]}
    assert params["levels"]["items"]["pattern"] == "^(?:初级|中级|高级)(?:,(?:初级|中级|高级))*$"
    assert params["regions"]["items"]["pattern"].startswith("^(?:east|central|west|northeast)")
    assert "pattern" not in params["cities"]["items"]


def test_numbers_are_text_on_get_and_json_numbers_in_a_body(client):
    """The body's JSON-number check is the one thing the GET form leaves out: a query string is text."""
    got = client.get("/v1/totals", params={"salary_min": "10000", "experience_max": "3"})
    assert got.status_code == 200, got.text
    posted = client.post("/v1/totals", json={"filter": {"salary_min": 10000, "experience_max": 3}})
    assert posted.json() == got.json()
    res = client.post("/v1/totals", json={"filter": {"salary_min": "10000"}})
    assert res.status_code == 422 and res.json()["detail"][0]["type"] == "number_type"
    res = client.get("/v1/totals", params={"salary_min": "-1"})
    assert res.status_code == 422 and res.json()["detail"][0]["loc"] == ["query", "salary_min"]
