"""Hazards (隐患): the ledger a township keeps, each hazard's signed steps from report to close-out (销号)."""

from models.hazards.model import (
    Action,
    DocumentHazard,
    DocumentKind,
    EnforcementDocument,
    Hazard,
    HazardDepartment,
    HazardStep,
    Kind,
    Severity,
    Source,
    Status,
)

__all__ = [
    "Action",
    "DocumentHazard",
    "DocumentKind",
    "EnforcementDocument",
    "Hazard",
    "HazardDepartment",
    "HazardStep",
    "Kind",
    "Severity",
    "Source",
    "Status",
]
