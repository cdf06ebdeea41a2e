"""Logging in, tokens, and user accounts over HTTP."""

from api.accounts.resources import BLUEPRINTS

__all__ = ["BLUEPRINTS"]
