"""24-hour holiday duty over HTTP: the holiday calendar, periods, rosters, checks, who is on duty, exports."""

from api.duty import exports, on_duty, periods, rosters  # noqa: F401  (their routes, on the duty blueprint)
from api.duty.resources import BLUEPRINTS

__all__ = ["BLUEPRINTS"]
