"""Services the routers receive through FastAPI dependency injection."""

from __future__ import annotations

from fastapi import Request

from skillsignal.config import Settings
from storage import SQLiteStore


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> SQLiteStore:
    return request.app.state.store
