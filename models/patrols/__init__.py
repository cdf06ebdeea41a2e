"""Patrols and inspections from mobile apps: records stored once whatever the retries, tracks, check-ins."""

from models.patrols.model import CheckInResult, Patrol, PatrolCell, PatrolCheckIn, PatrolKind, PatrolOfficer

__all__ = ["CheckInResult", "Patrol", "PatrolCell", "PatrolCheckIn", "PatrolKind", "PatrolOfficer"]
