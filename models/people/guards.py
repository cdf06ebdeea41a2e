"""People's word on territorial writes, and what higher domains may say about people's writes (see `models.guards`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import locks
from models.errors import Conflict
from models.guards import Guards
from models.people.model import GridAssignment
from models.roles import Caller
from models.territory.guards import cell_retiring
from models.territory.model import GridCell

# Called as fn(session, caller=, officer_id=) inside the write that deactivates an officer (they left).
officer_leaving = Guards("an officer is being deactivated")
# Called as fn(session, caller=, officer_id=, township_id=) inside the write that moves an officer to another
# township.
officer_moving = Guards("an officer is moving to another township")


@cell_retiring.register(locks.team)
def _refuse_cell_with_team(session: Session, *, caller: Caller, cell: GridCell) -> None:
    """Nobody stays responsible for a cell that no longer exists: its team must have ended first."""
    team = session.scalars(
        select(GridAssignment.id).where(
            GridAssignment.cell_id == cell.id,
            GridAssignment.valid_to.is_(None),
            GridAssignment.superseded_at.is_(None),
        )
    ).all()
    if team:
        raise Conflict(
            f"grid cell {cell.code} still has officers in charge (assignments "
            f"{', '.join(map(str, team))}); end their assignments first",
            code="cell-has-team",
        )
