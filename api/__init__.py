"""HTTP layer: the app factory."""

from __future__ import annotations

import logging
from typing import Any

from argon2 import PasswordHasher
from flask import Flask
from werkzeug.routing import IntegerConverter

from api import auth, config, content, swagger_ui
from api.db import db
from api.extensions import Api
from api.fields import MAX_ID, AreaGeometry, GeoJSONObject, ReferenceGeometry
from models.accounts.passwords import use_password_hasher


class IdConverter(IntegerConverter):
    """`<int:...>` in URLs: ids are 32-bit, so a larger number matches no route."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


_HASH_COSTS = {
    "standard": {},  # argon2-cffi's defaults: RFC 9106 second recommended parameters
    "fast": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},  # tests only
}


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app; settings come from the environment, then from `overrides` (tests)."""
    app = Flask(__name__, instance_path=str(config.INSTANCE_DIR), static_folder=None)
    app.url_map.converters["int"] = IdConverter  # before any route: /officers/99999999999 is a 404, not a 500
    app.config.update(config.from_environment())
    app.config.update(overrides or {})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)

    if app.config["PASSWORD_HASH_COST"] not in _HASH_COSTS:
        raise ValueError(f"PASSWORD_HASH_COST must be one of {', '.join(_HASH_COSTS)}")
    use_password_hasher(PasswordHasher(**_HASH_COSTS[app.config["PASSWORD_HASH_COST"]]))

    db.init_app(app)
    auth.register(app)
    content.register(app)  # after the access check: a caller without a token learns nothing more
    api = Api(app)
    swagger_ui.register(app)
    api.register_field(AreaGeometry, "object", None)
    api.register_field(ReferenceGeometry, "object", None)
    api.register_field(GeoJSONObject, "object", None)

    from api.accounts import BLUEPRINTS as ACCOUNTS
    from api.audit import BLUEPRINTS as AUDIT
    from api.departments import BLUEPRINTS as DEPARTMENTS
    from api.duty import BLUEPRINTS as DUTY
    from api.enterprises import BLUEPRINTS as ENTERPRISES
    from api.hazards import BLUEPRINTS as HAZARDS
    from api.patrols import BLUEPRINTS as PATROLS
    from api.people import BLUEPRINTS as PEOPLE
    from api.territory import BLUEPRINTS as TERRITORY

    for blueprint in (*ACCOUNTS, *TERRITORY, *DEPARTMENTS, *PEOPLE, *ENTERPRISES, *HAZARDS, *PATROLS, *DUTY, *AUDIT):
        api.register_blueprint(blueprint)

    from api.cli import register_cli

    register_cli(app)
    return app
