"""Typed response models of the API."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class Health(BaseModel):
    status: str
    version: str
    backend: str
    postings: int
    taxonomy_version: str


class Bucket(BaseModel):
    key: str
    name: str | None = None
    count: int


class FacetCounts(BaseModel):
    facet: str
    start: date | None
    end: date | None
    total: int
    buckets: list[Bucket]
