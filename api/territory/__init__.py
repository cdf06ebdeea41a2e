"""The territorial hierarchy over HTTP."""

from api.territory.resources import BLUEPRINTS

__all__ = ["BLUEPRINTS"]
