"""Sectors and supervising departments over HTTP."""

from api.departments.resources import BLUEPRINTS

__all__ = ["BLUEPRINTS"]
