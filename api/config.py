"""Configuration from the environment."""

from __future__ import annotations

import os
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"
SWAGGER_UI_ASSETS = "/api/v1/docs/static/"  # served by api.swagger_ui from a Python package: no CDN needed


def from_environment() -> dict:
    """Settings read from the environment; `DATABASE_URL` picks the backend (embedded SpatiaLite by default)."""
    return {
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'gridpatrol.sqlite'}",
        "PAGE_SIZE_DEFAULT": int(os.environ.get("PAGE_SIZE_DEFAULT", "50")),
        "PAGE_SIZE_MAX": int(os.environ.get("PAGE_SIZE_MAX", "500")),
        # Accounts and tokens
        "ACCESS_TOKEN_MINUTES": int(os.environ.get("ACCESS_TOKEN_MINUTES", "15")),
        "REFRESH_TOKEN_DAYS": int(os.environ.get("REFRESH_TOKEN_DAYS", "30")),
        "LOGIN_MAX_FAILURES": int(os.environ.get("LOGIN_MAX_FAILURES", "10")),
        "LOGIN_LOCK_MINUTES": int(os.environ.get("LOGIN_LOCK_MINUTES", "15")),
        # A token's caller is remembered per process until any account changes (models/accounts/callers.py), at
        # most this long; 0 asks the database on every request (app processes on several hosts must set 0). The
        # processes of one host share an epoch file in CALLER_CACHE_DIR (the instance directory by default).
        "CALLER_CACHE_SECONDS": float(os.environ.get("CALLER_CACHE_SECONDS", "30")),
        "CALLER_CACHE_DIR": os.environ.get("CALLER_CACHE_DIR") or str(INSTANCE_DIR),
        # "standard": Argon2id at RFC 9106's second recommended cost (64 MiB, 3 passes). "fast" is for tests only.
        "PASSWORD_HASH_COST": os.environ.get("PASSWORD_HASH_COST", "standard"),
        # Idempotency-Key: how long a key is kept, how long a duplicate waits for the first request, and after how
        # long a claim whose request never finished (it died) may be taken over by a retry
        "IDEMPOTENCY_TTL_HOURS": int(os.environ.get("IDEMPOTENCY_TTL_HOURS", "24")),
        "IDEMPOTENCY_WAIT_SECONDS": float(os.environ.get("IDEMPOTENCY_WAIT_SECONDS", "10")),
        "IDEMPOTENCY_LEASE_SECONDS": int(os.environ.get("IDEMPOTENCY_LEASE_SECONDS", "300")),
        # Uploaded photos: where their bytes are kept (models/files.py: filesystem:<directory>), and how large one
        # may be
        "FILE_STORE": os.environ.get("FILE_STORE") or f"filesystem:{INSTANCE_DIR / 'files'}",
        "PHOTO_MAX_BYTES": int(os.environ.get("PHOTO_MAX_BYTES", str(10 * 2**20))),
        # flask-smorest
        "API_TITLE": "Grid patrol API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": os.environ.get("OPENAPI_SWAGGER_UI_URL", SWAGGER_UI_ASSETS),
        "JSON_SORT_KEYS": False,
    }
