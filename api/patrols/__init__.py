"""Patrol records over HTTP."""

from api.patrols import coverage, photos  # noqa: F401  (their routes, on the patrols blueprint)
from api.patrols.resources import BLUEPRINTS

__all__ = ["BLUEPRINTS"]
