"""WSGI module for the benchmark only (scripts/bench_http.py serves it with gunicorn): never deploy it.

The app of `wsgi.py` on the database named by BENCH_DATABASE_URL, plus two routes that do nothing, so that the
benchmark can tell the cost of the server, Flask and the token check apart from the cost of an endpoint's work:

    GET /_bench/noop        no token needed
    GET /_bench/noop-auth   the same behind the token check every API endpoint makes (one query per request)

    gunicorn --pythonpath scripts,. 'bench_wsgi:make_application()'
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The app's names this module relies on, in one place: if they move, only these lines change.
from flask import Flask

from api import create_app
from api.auth import PUBLIC, AccessRule, declare
from api.responses import json_response
from models.roles import ALL_ROLES

NOOP = "/_bench/noop"
NOOP_AUTH = "/_bench/noop-auth"


def add_noop_routes(app: Flask) -> Flask:
    """Register the two no-op routes on `app` (also used in-process by scripts/bench_lists.py)."""

    @app.get(NOOP)
    @declare(PUBLIC)
    def bench_noop() -> object:
        return json_response({"ok": True})

    @app.get(NOOP_AUTH)
    @declare(AccessRule(roles=ALL_ROLES))
    def bench_noop_auth() -> object:
        return json_response({"ok": True})

    return app


def make_application() -> Flask:
    """The app gunicorn serves: built in each worker, on BENCH_DATABASE_URL."""
    application = add_noop_routes(create_app({"DATABASE_URL": os.environ["BENCH_DATABASE_URL"]}))
    gc.freeze()  # as wsgi.py does
    return application
