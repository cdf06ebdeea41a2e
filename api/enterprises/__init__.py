"""Enterprises over HTTP: the register and the spatial questions."""

from api.enterprises import importing, near  # noqa: F401  (the import's and spatial questions' routes, same blueprint)
from api.enterprises.resources import BLUEPRINTS

__all__ = ["BLUEPRINTS"]
