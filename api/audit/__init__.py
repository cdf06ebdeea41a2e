"""The audit trail over HTTP (read-only)."""

from api.audit.resources import BLUEPRINTS

__all__ = ["BLUEPRINTS"]
