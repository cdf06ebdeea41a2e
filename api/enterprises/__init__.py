"""Enterprises over HTTP: the register and the spatial questions."""

from api.enterprises.resources import BLUEPRINTS

__all__ = ["BLUEPRINTS"]
