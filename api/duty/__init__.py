"""24-hour holiday duty over HTTP: the official holiday calendar so far."""

from api.duty.resources import BLUEPRINTS

__all__ = ["BLUEPRINTS"]
