"""The interactive docs' assets: Swagger UI served from a Python package, so /api/v1/docs works on an intranet.

flask-smorest's page (/api/v1/docs) loads its script and stylesheet from OPENAPI_SWAGGER_UI_URL; by default that
is our own route below, which serves the Swagger UI distribution that the pinned `flask-swagger-ui` package ships
(its `dist/` folder only: the page stays flask-smorest's). Public, like the page and the spec.
"""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Flask, Response, send_from_directory

from api.config import SWAGGER_UI_ASSETS

DIST = Path(flask_swagger_ui.__file__).resolve().parent / "dist"

assets = Blueprint("swagger-ui", __name__)


@assets.get(f"{SWAGGER_UI_ASSETS}<path:filename>")
def asset(filename: str) -> Response:
    """A file of the Swagger UI distribution (a 404 for anything else, and for any path outside it)."""
    return send_from_directory(DIST, filename)


def register(app: Flask) -> None:
    app.register_blueprint(assets)
