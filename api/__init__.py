"""HTTP layer: the app factory."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from api import config
from api.db import db
from api.extensions import Api
from api.fields import AreaGeometry, GeoJSONObject


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app; settings come from the environment, then from `overrides` (tests)."""
    app = Flask(__name__, instance_path=str(config.INSTANCE_DIR))
    app.config.update(config.from_environment())
    app.config.update(overrides or {})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)

    db.init_app(app)
    api = Api(app)
    api.register_field(AreaGeometry, "object", None)
    api.register_field(GeoJSONObject, "object", None)

    from api.territory import BLUEPRINTS

    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)

    from api.cli import register_cli

    register_cli(app)
    return app
