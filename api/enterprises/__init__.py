"""Enterprises over HTTP: the register and the spatial questions."""

from api.enterprises import near  # noqa: F401  (the spatial questions' routes, on the same blueprint)
from api.enterprises.resources import BLUEPRINTS

__all__ = ["BLUEPRINTS"]
