"""Patrol coverage over HTTP: a township's, village's or cell's figures for a period, as JSON or as map layers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask.views import MethodView

from api.auth import current_caller
from api.db import db
from api.patrols import schemas as s
from api.patrols.resources import READ_NOTE, patrols
from api.responses import GEOJSON, json_response, wants_geojson
from models.base import county_today
from models.errors import RuleViolation
from models.patrols.coverage import coverage
from models.roles import ALL_ROLES


def _layers(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer as a FeatureCollection: the unit, its covered and uncovered parts, its enterprises and its idle
    cells, each feature with a `layer` property; the figures as the collection's `figures` member."""
    shapes = answer.pop("geometry")
    unit = answer["unit"]
    features = [
        {"type": "Feature", "id": "unit", "geometry": shapes["unit"], "properties": {"layer": "unit", **unit}},
        {"type": "Feature", "id": "covered", "geometry": shapes["covered"],
         "properties": {"layer": "covered", "area_m2": answer["covered_m2"]}},
        {"type": "Feature", "id": "uncovered", "geometry": shapes["uncovered"],
         "properties": {"layer": "uncovered", "area_m2": round(answer["area_m2"] - answer["covered_m2"], 1)}},
    ]  # fmt: skip
    for e in shapes["enterprises"]:
        point = {"type": "Point", "coordinates": [e["lon"], e["lat"]]}
        properties = {k: v for k, v in e.items() if k not in ("lon", "lat", "id")}
        features.append({"type": "Feature", "id": f"enterprise-{e['id']}", "geometry": point,
                         "properties": {"layer": "enterprise", "enterprise_id": e["id"], **properties}})  # fmt: skip
    for c in shapes["idle_cells"]:
        properties = {"layer": "idle_cell", "cell_id": c["id"], "code": c["code"], "name": c["name"],
                      "last_patrol_at": c["last_patrol_at"]}  # fmt: skip
        features.append({"type": "Feature", "id": f"cell-{c['id']}", "geometry": c["boundary"],
                         "properties": properties})  # fmt: skip
    return {"type": "FeatureCollection", "features": features, "figures": answer}


@patrols.route("/coverage/<any(township, village, cell):level>/<int:unit_id>")
class Coverage(MethodView):
    @patrols.access(*ALL_ROLES, note=f"{READ_NOTE} The figures count what the caller may see.")
    @patrols.query(s.CoverageArgs)
    @patrols.response(200, s.CoverageSchema)
    @patrols.alt_response(200, schema=s.CoverageLayersSchema, content_type=GEOJSON, success=True,
                          description="map layers: unit, covered, uncovered, enterprise, idle_cell")  # fmt: skip
    @patrols.problem(404, "no such unit in your scope")
    def get(self, level: str, unit_id: int, **arguments: Any) -> Any:
        """Patrol coverage of a township, village or cell

        For the days `from` to `to` (both included, in the county; by default the 30 days to today): the patrols
        that name one of its cells and started in the period, their person-visits (人次), distance, check-ins and
        findings; the share of its area within `within_m` (50 m) of their tracks; its operating enterprises visited
        and not visited, and those overdue for a visit under the visit policy (red every 7 days, orange 14, yellow
        30, blue 90 unless PATROL_VISIT_DAYS says otherwise); its cells with no patrol in the last `idle_days`
        days of the period; and per officer, their patrols, distance, check-ins and findings. As GeoJSON
        (`format=geojson` or Accept), map layers: the unit, its covered and uncovered parts, its enterprises (with
        `visited` and `overdue`) and its idle cells; the figures in the collection's `figures` member. At most 366
        days (422 `period-too-long`).
        """
        to: date = arguments.get("to") or county_today()
        from_day: date = arguments.get("from_") or to - timedelta(days=29)
        if from_day > to:
            raise RuleViolation("from is on or before to", code="period-inverted", pointer="/from")
        geojson = wants_geojson(arguments.get("format"))
        answer = coverage(db.session(), caller=current_caller(), level=level, unit_id=unit_id, from_day=from_day,
                          to_day=to, within_m=arguments["within_m"], idle_days=arguments["idle_days"],
                          geometry=geojson)  # fmt: skip
        if geojson:
            return json_response(_layers(answer), mimetype=GEOJSON)
        return json_response(answer)
