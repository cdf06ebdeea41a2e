"""Patrol records over HTTP."""

from api.patrols.resources import BLUEPRINTS

__all__ = ["BLUEPRINTS"]
