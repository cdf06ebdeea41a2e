"""The hazard ledger over HTTP: hazards and their steps, and the enforcement documents."""

from api.hazards import followup, near, photos  # noqa: F401  (their routes, on the hazards blueprint)
from api.hazards.documents import documents
from api.hazards.resources import hazards

BLUEPRINTS = (hazards, documents)

__all__ = ["BLUEPRINTS"]
