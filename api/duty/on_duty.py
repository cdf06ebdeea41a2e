"""Who is on duty over HTTP: thin views over `models.duty.on_duty`."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.auth import current_caller
from api.db import db
from api.duty import roster_schemas as s
from api.duty.resources import duty
from api.responses import json_response
from geo.coords import to_wgs84
from models.duty.on_duty import on_duty, on_duty_here
from models.roles import ALL_ROLES

NOTE = (
    "Every role, for every unit: a duty roster is circulated county-wide so that anyone can reach the unit on duty "
    "(names, roles and phones of the shifts holding the instant; the rosters themselves stay in their scope)."
)


@duty.route("/on-duty")
class OnDuty(MethodView):
    @duty.access(*ALL_ROLES, note=NOTE)
    @duty.query(s.OnDutyArgs)
    @duty.response(200, s.OnDutySchema)
    def get(self, **arguments: Any) -> Any:
        """Who is on duty

        Now, or at `at`: for one township or department, or for every unit the periods holding the instant name;
        each with the shifts holding it (leader on duty, duty officers, phones) from its roster as last submitted,
        and the county office's duty desk. A unit with nobody on duty then answers `covered: false`; outside every
        period there is no unit.
        """
        return json_response(on_duty(db.session(), caller=current_caller(), **arguments))


@duty.route("/on-duty/here")
class OnDutyHere(MethodView):
    @duty.access(*ALL_ROLES, note=NOTE)
    @duty.query(s.OnDutyHereArgs)
    @duty.response(200, s.OnDutyHereSchema)
    def get(self, lon: float, lat: float, coord_system: Any, at: Any = None) -> Any:
        """Whom to call for a place

        "An accident here": the township holding the point (GPS, or Amap/Tencent `gcj02`, Baidu `bd09`, converted
        to WGS-84 first), its leader and officers on duty now (or at `at`) with their phones, and the county
        office's duty desk. A point outside every township answers `township: null` and the desk.
        """
        wlon, wlat = to_wgs84(lon, lat, coord_system)
        return json_response(on_duty_here(db.session(), caller=current_caller(), lon=wlon, lat=wlat, at=at))
