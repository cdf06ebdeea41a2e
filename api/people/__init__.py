"""Officers and their grid assignments over HTTP."""

from api.people.resources import BLUEPRINTS

__all__ = ["BLUEPRINTS"]
