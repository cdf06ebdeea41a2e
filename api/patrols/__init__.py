"""Patrol records over HTTP."""

from api.patrols import photos  # noqa: F401  (its routes, on the patrols blueprint)
from api.patrols.resources import BLUEPRINTS

__all__ = ["BLUEPRINTS"]
