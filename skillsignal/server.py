"""The API as ``skillsignal serve`` runs it: the query layer with the ingest pipeline wired in.

``api.app.create_app`` knows only the interfaces (``PostingIndex``, ``PostingSink``); this module,
above every stage, hands it the application's ingest pipeline for ``POST /v1/postings``.
"""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from nlp.extractor import Extractor
from storage import PostingIndex

from .core.config import Settings, get_settings
from .pipeline import IngestPipeline
from .workers import extraction_queue, register_queue_metrics


def api_ingest(settings: Settings, store: PostingIndex, extractor: Extractor | None) -> IngestPipeline:
    """The sink of ``POST /v1/postings``: the ingest pipeline over the app's store and extractor; with
    ``Settings.redis_url`` it stores the postings raw and queues their extraction to the workers
    (``skillsignal worker``), so no extraction runs in the API process."""
    return IngestPipeline(settings, store=store, extractor=extractor, queue=extraction_queue(settings))


def build_app(settings: Settings | None = None, store: PostingIndex | None = None) -> FastAPI:
    """The full API over ``store`` (default: the one ``settings`` names), ingest included; its
    ``/metrics`` reads the extraction queue from Redis when the workers extract."""
    settings = settings or get_settings()
    register_queue_metrics(settings)
    return create_app(settings, store, ingest_factory=api_ingest)
