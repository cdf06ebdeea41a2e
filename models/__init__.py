"""The domains, lowest first; each package re-exports its mapped classes. `models` never imports `api`.

Importing any domain imports them all (this module runs first), so every registry of guards is full before the first
write (see `models.guards`).
"""

import importlib

from models.accounts import AuthSession, AuthToken, User
from models.audit import AuditEvent
from models.base import Base
from models.departments import Department, Sector
from models.enterprises import Enterprise, EnterpriseDepartment
from models.hazards import DocumentHazard, EnforcementDocument, Hazard, HazardDepartment, HazardStep
from models.idempotency import IdempotencyKey
from models.patrols import Patrol, PatrolCell, PatrolCheckIn, PatrolOfficer
from models.people import GridAssignment, Officer
from models.search import NameGram
from models.territory import GridCell, Township, Village

# The guards that higher domains register on lower ones' writes, once every package above is loaded: enterprises and
# hazards follow redrawn boundaries.
for _module in ("models.enterprises.places", "models.hazards.report"):
    importlib.import_module(_module)

__all__ = [
    "AuditEvent",
    "AuthSession",
    "AuthToken",
    "Base",
    "Department",
    "DocumentHazard",
    "EnforcementDocument",
    "Enterprise",
    "EnterpriseDepartment",
    "GridAssignment",
    "GridCell",
    "Hazard",
    "HazardDepartment",
    "HazardStep",
    "IdempotencyKey",
    "NameGram",
    "Officer",
    "Patrol",
    "PatrolCell",
    "PatrolCheckIn",
    "PatrolOfficer",
    "Sector",
    "Township",
    "User",
    "Village",
]
