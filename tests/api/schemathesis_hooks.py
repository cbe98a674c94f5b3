"""Schemathesis hooks for ``test_openapi_schemathesis.py`` (loaded with ``SCHEMATHESIS_HOOKS``).

Every check runs on every generated request; one hook (``filter_failure``) drops two kinds of
reported failure that are not the API's, and the run's summary counts what it dropped:

1. **Rules across parameters that JSON Schema cannot state**, each answered with a 422 of its own
   ``type`` and each tested on its own elsewhere: ``date_order`` (start after end), ``series_limit``
   (periods × series over the configured limit), ``cursor_invalid`` (a cursor this API did not
   issue), and the data-dependent ``too_little_history`` (a forecast over fewer months than it needs)
   and ``forecast_series_limit`` (an export with forecasts over too many series). A schema-valid
   request refused *only* for these is not a wrong rejection; any other problem in the same answer
   keeps the failure.
2. **Negative cases whose mutation vanished on the wire**: a query string carries only text, so a
   "number where an array of strings is expected" or a ``null`` (sent as nothing) arrives as a
   valid request. The query actually sent is re-checked against the operation's parameters; only
   when every mutated query parameter, as sent, satisfies its schema is the failure dropped.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import schemathesis
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.generation.meta import negated_parameters
from schemathesis.openapi.checks import RejectedPositiveData

CROSS_PARAMETER_RULES = {
    "date_order",
    "series_limit",
    "cursor_invalid",
    "too_little_history",
    "forecast_series_limit",
}


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    """True keeps the failure."""
    if isinstance(failure, RejectedPositiveData):
        return not _only_cross_parameter_rules(response)
    if isinstance(failure, AcceptedNegativeData):
        return not _mutation_vanished_on_the_wire(case, response)
    return True


def _only_cross_parameter_rules(response) -> bool:
    if response.status_code != 422:
        return False
    try:
        problems = response.json()["detail"]
    except Exception:
        return False
    return bool(problems) and all(p.get("type") in CROSS_PARAMETER_RULES for p in problems)


def _mutation_vanished_on_the_wire(case, response) -> bool:
    mutated = list(negated_parameters(case.meta))
    if not mutated or any(loc.name != "QUERY" for _, loc in mutated):
        return False
    url = getattr(response.request, "url", None)
    if not url:
        return False
    sent = parse_qs(urlsplit(str(url)).query, keep_blank_values=True)
    raw = case.operation.schema.raw_schema
    params = {
        p["name"]: p
        for p in raw["paths"][case.operation.path][case.operation.method.lower()].get("parameters", [])
        if p.get("in") == "query"
    }
    for name, _ in mutated:
        param = params.get(name)
        if param is None:
            return False
        values = sent.get(name)
        if values is None:
            if param.get("required"):
                return False
            continue
        if not _valid(values, param.get("schema", {})):
            return False
    return True


def _branches(schema: dict) -> list[dict]:
    return schema["anyOf"] if "anyOf" in schema else [schema]


def _valid(values: list[str], schema: dict) -> bool:
    """Whether query values, as sent, satisfy a parameter schema (the subset this API uses)."""
    for branch in _branches(schema):
        kind = branch.get("type")
        if kind == "null":
            continue
        if kind == "array":
            if all(_valid_scalar(v, branch.get("items", {})) for v in values):
                return True
        elif len(values) == 1 and _valid_scalar(values[0], branch):
            return True
    return False


def _valid_scalar(text: str, schema: dict) -> bool:
    kind = schema.get("type", "string")
    value: Any = text
    if kind in ("number", "integer"):
        try:
            value = int(text) if kind == "integer" else float(text)
        except ValueError:
            return False
        if "minimum" in schema and value < schema["minimum"]:
            return False
        if "maximum" in schema and value > schema["maximum"]:
            return False
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            return False
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            return False
        return True
    if kind != "string":
        return False
    if "enum" in schema and text not in schema["enum"]:
        return False
    if "pattern" in schema and not re.search(schema["pattern"], text):
        return False
    if len(text) < schema.get("minLength", 0) or len(text) > schema.get("maxLength", len(text)):
        return False
    if schema.get("format") == "date":
        try:
            date.fromisoformat(text)
        except ValueError:
            return False
        return re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) is not None
    return True
