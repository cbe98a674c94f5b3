"""The OpenAPI document and the interactive docs, both true to the app that serves them.

* :func:`install_openapi` fills in what depends on the app's settings and taxonomy: the page-size
  cap (``maximum`` of ``size``) and the occupation codes a filter accepts (``enum`` in bodies, a
  comma-separated ``pattern`` on GET), so that every request the document allows is answered.
* :func:`mount_docs` serves Swagger UI at ``/docs`` from the app's own files
  (``api/static/vendor/swagger-ui``, copied from the ``swagger-ui-dist`` npm package by
  ``scripts/setup.sh``): nothing is fetched from a CDN, so the page works offline.
* :class:`QueryCheck` holds each query string to its operation's parameters in the document: an
  unknown or a repeated one-value parameter answers 422 instead of being dropped or overwritten.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from skill_taxonomy import Taxonomy
from skillsignal.core.config import Settings

from .filters import csv_pattern

log = logging.getLogger(__name__)

SWAGGER_DIR = Path(__file__).resolve().parent / "static" / "vendor" / "swagger-ui"
#: the files of swagger-ui-dist the page loads
SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")
DOCS_ASSETS = "/docs/assets"

VALUES_MARK = "x-skillsignal-values"
LIMIT_MARK = "x-skillsignal-limit"


def _walk(node: Any, visit: Callable[[dict[str, Any]], None]) -> None:
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            _walk(value, visit)


def finish_schema(schema: dict[str, Any], settings: Settings, taxonomy: Taxonomy) -> dict[str, Any]:
    """Replace the marks the routers and models leave in the schema with this app's values."""
    codes = [*sorted(taxonomy.occupations), "other"]

    def on_get(node: dict[str, Any]) -> None:  # query parameters: one code or several, comma-separated
        if node.pop(VALUES_MARK, None) == "occupation-codes":
            node["items"] = {"type": "string", "pattern": csv_pattern(codes)}

    def anywhere(node: dict[str, Any]) -> None:
        if node.pop(VALUES_MARK, None) == "occupation-codes":  # JSON bodies: a list of codes
            node["items"] = {"type": "string", "enum": codes}
        limit = node.pop(LIMIT_MARK, None)
        if limit is not None:
            node["maximum"] = getattr(settings, limit)

    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for param in operation.get("parameters", []) if isinstance(operation, dict) else []:
                _walk(param.get("schema", {}), on_get)
    _walk(schema, anywhere)
    return schema


def install_openapi(app: FastAPI, settings: Settings, taxonomy: Callable[[], Taxonomy]) -> None:
    """``app.openapi()`` builds the document once, finished with the app's settings and taxonomy."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = finish_schema(schema, settings, taxonomy())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI documents overriding app.openapi; mypy forbids assigning to a method


def mount_docs(app: FastAPI) -> None:
    """Swagger UI at ``/docs`` with its assets under ``/docs/assets`` (no CDN)."""
    missing = [f for f in SWAGGER_FILES if not (SWAGGER_DIR / f).is_file()]
    if missing:
        log.warning(
            "Swagger UI files missing in %s (%s): /docs will be blank; run scripts/setup.sh",
            SWAGGER_DIR,
            ", ".join(missing),
        )
    else:
        app.mount(DOCS_ASSETS, StaticFiles(directory=SWAGGER_DIR), name="docs-assets")
    redirect = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
            oauth2_redirect_url=redirect,
            swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from validator.swagger.io
        )

    @app.get(redirect, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()


def path_regex(template: str) -> re.Pattern[str]:
    """The regular expression of an OpenAPI path template (``/v1/skills/{skill}``)."""
    return re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)))


def _takes_many(schema: dict[str, Any]) -> bool:
    return any(b.get("type") == "array" for b in schema.get("anyOf", [schema]))


class QueryCheck:
    """ASGI middleware checking a query string against the OpenAPI document of its operation: a
    parameter the operation does not take (a misspelling such as ``occupation=`` for ``occupations=``
    would otherwise be dropped silently and answer for every posting), and a one-value parameter (a
    number, a date, an interval) given twice (otherwise the last one silently wins), each answer 422
    naming the parameter. Paths the document does not list (the docs, the dashboard's files) pass."""

    def __init__(self, app: ASGIApp, fastapi_app: FastAPI) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self._table: list[tuple[re.Pattern[str], str, tuple[str, ...], frozenset[str]]] | None = None

    def table(self) -> list[tuple[re.Pattern[str], str, tuple[str, ...], frozenset[str]]]:
        """Per operation: its path, method, every query parameter it takes and the one-value ones."""
        if self._table is None:
            rows = []
            for template, operations in self.fastapi_app.openapi().get("paths", {}).items():
                for method, op in operations.items():
                    query = [p for p in op.get("parameters", []) if p.get("in") == "query"]
                    taken = tuple(sorted(p["name"] for p in query))
                    scalars = frozenset(p["name"] for p in query if not _takes_many(p.get("schema", {})))
                    rows.append((path_regex(template), method.upper(), taken, scalars))
            self._table = rows
        return self._table

    def problem(self, method: str, path: str, names: list[str]) -> dict[str, Any] | None:
        """The 422 detail item for ``names`` (the query string's, in order) on ``method path``, or None."""
        for regex, op_method, taken, scalars in self.table():
            if op_method != method or not regex.fullmatch(path):
                continue
            unknown = [k for k in names if k not in taken]
            if unknown:
                valid = ", ".join(taken) if taken else "none"
                return {
                    "loc": ["query", unknown[0]],
                    "type": "unknown_parameter",
                    "msg": f"{unknown[0]}: not a parameter of {method} {path} (it takes: {valid})",
                }
            repeated = sorted({k for k in names if names.count(k) > 1} & scalars)
            if repeated:
                return {
                    "loc": ["query", repeated[0]],
                    "type": "repeated_parameter",
                    "msg": f"{repeated[0]}: give it once (it takes one value, it was repeated)",
                }
            return None
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            names = [k for k, _ in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)]
            problem = self.problem(scope["method"], scope["path"], names)
            if problem is not None:
                await JSONResponse(status_code=422, content={"detail": [problem]})(scope, receive, send)
                return
        await self.app(scope, receive, send)
