"""Officers (网格长/网格员) and their grid assignments, with the full history of who was responsible when."""

from models.people import guards as _guards  # noqa: F401  (tells territory when a cell still has a team)
from models.people.model import AssignmentRole, GridAssignment, Officer

__all__ = ["AssignmentRole", "GridAssignment", "Officer"]
