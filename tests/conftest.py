"""Fixtures shared by every test area."""

from __future__ import annotations

import os
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
def shared_dir() -> Path:
    """The shared data folder beside the checkout; tests that need it skip when it is absent."""
    if not SHARED.exists():
        pytest.skip(f"{SHARED} is absent (shared data lives beside the checkout)")
    return SHARED
