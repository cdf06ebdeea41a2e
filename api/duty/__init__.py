"""24-hour holiday duty over HTTP: the official holiday calendar, duty periods and rosters so far."""

from api.duty import on_duty, periods, rosters  # noqa: F401  (their routes, on the duty blueprint)
from api.duty.resources import BLUEPRINTS

__all__ = ["BLUEPRINTS"]
