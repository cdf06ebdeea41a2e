"""24-hour holiday duty over HTTP: the official holiday calendar and duty periods so far."""

from api.duty import periods  # noqa: F401  (its routes, on the duty blueprint)
from api.duty.resources import BLUEPRINTS

__all__ = ["BLUEPRINTS"]
