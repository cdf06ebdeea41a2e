"""The hazard ledger over HTTP."""

from api.hazards.resources import BLUEPRINTS

__all__ = ["BLUEPRINTS"]
